"""The exit codes are one table (core/errors.py): the README's table and `--help` are checked against it."""

import re
import subprocess
import sys

import conftest
from agent_sync.core import errors

README = conftest.ROOT / "README.md"


def readme_table():
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    return [(int(code), name) for code, name in re.findall(r"^\| (\d+) \| ([a-z-]+) \|", section, re.MULTILINE)]


def test_readme_lists_exactly_the_codes_in_code():
    assert readme_table() == [(code, name) for code, name, _ in errors.EXIT_CODES]


def test_help_epilog_lists_exactly_the_codes_in_code():
    out = subprocess.run([sys.executable, str(conftest.PYZ), "--help"], capture_output=True, text=True,
                         check=True, env={"COLUMNS": "1000", "PATH": "/usr/bin:/bin"}).stdout
    listed = re.search(r"Exit codes: (.*)\.", out).group(1)
    assert [tuple(item.split(" ", 1)) for item in listed.split(", ")] == \
        [(str(code), name) for code, name, _ in errors.EXIT_CODES]


def test_every_error_class_uses_a_listed_code():
    listed = {code for code, _, _ in errors.EXIT_CODES}
    classes = [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.AgentSyncError)]
    assert len(classes) > 5
    assert {cls.exit_code for cls in classes} <= listed
