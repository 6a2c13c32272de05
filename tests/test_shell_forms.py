"""Shell forms the parser used to miss (issue 12, "Shell forms the parser misses").

Black-box: each command goes through the built archive's pre-tool hook while another
agent holds `src/app.py`; then a property test of the parser itself.
"""

import json
import os

import pytest
from hypothesis import given, settings, strategies as st

from agent_sync.hooks import shellparse

REFUSED = [
    "touch src/{app,other}.py",
    "echo x > src/{app,other}.py",
    "cp /dev/null src/{x,app}.py",
    "touch src/app.{py,txt}",
    "rm src/{a,{b,app}}.py",
    "perl -0pi -e 's/a/b/' src/app.py",
    "perl -0777 -pi -e 's/a/b/' src/app.py",
    "perl -lpi -e 's/a/b/' src/app.py",
    "perl -pi.bak -e 's/a/b/' src/app.py",
    "rm -rf ..",
    "rm -rf ../repo",
    "rm -rf \"$PWD\"",
    "rm -rf .",
    "rm -rf ./",
    "cd src && rm -rf ../..",
    "find . -delete",
    "find .. -name '*.pyc' -delete",
    "git clean -fdx",
    "git clean -fd src",
    "sed -i.bak 's/a/b/' src/app.py",
    "sed --in-place 's/a/b/' src/app.py",
    "sed --in-place=.orig 's/a/b/' src/app.py",
    "sed -Ei 's/a/b/' src/app.py",
    "sed -i -E 's/a/b/' src/app.py",
    "tee -a src/app.py < /dev/null",
    "echo x >| src/app.py",
    "echo x &> src/app.py",
    "echo x &>> src/app.py",
    "echo x 2> src/app.py",
    "echo x 1>> src/app.py",
    "cp x src/app.py",
    "cp -t src app.py",
    "mv src/app.py /tmp/gone.py",
    "install x src/app.py",
    "ln -sf x src/app.py",
    "truncate -s0 src/app.py",
    "dd if=/dev/zero of=src/app.py",
    "xargs rm src/app.py < /dev/null",
    "(cd src && echo x > app.py)",
    "{ echo x > src/app.py; }",
    "env FOO=1 nice -n 5 timeout 10 sed -i s/a/b/ src/app.py",
    "command rm src/app.py",
    "sudo -u x rm src/app.py",
    "bash -c 'rm src/app.py'",
    "eval 'rm src/app.py'",
]
ALLOWED = [
    "touch 'src/{app,other}.py'",  # quoted braces are literal
    "touch src/{x,y}.py",
    "perl -pe 's/a/b/' src/app.py",  # no -i: prints only
    "git clean -n",
    "rm -rf src/other",
    "cat src/app.py",
    "rm -rf /tmp/agent-sync-not-the-repo",
]


@pytest.fixture
def locked(repo):
    (repo.path / "src").mkdir()
    (repo.path / "src" / "app.py").write_text("x = 1\n")
    repo.ok("lock", "src/app.py", "--reason", "mine", agent="bob")
    return repo


def bash(repo, command, cwd=None):
    data = {"session_id": "sess-shell-1", "hook_event_name": "PreToolUse", "tool_name": "Bash",
            "tool_input": {"command": command}, "cwd": str(cwd or repo.path)}
    return repo.hook("pre-tool-use", json.dumps(data), env={"PWD": str(cwd or repo.path)}, cwd=cwd)


@pytest.mark.parametrize("command", REFUSED)
def test_a_write_in_any_spelling_is_refused(locked, command):
    result = bash(locked, command)
    assert result.code == 2 and "locked by bob" in result.err, (command, result)


@pytest.mark.parametrize("command", ALLOWED)
def test_what_does_not_write_the_locked_file_passes(locked, command):
    result = bash(locked, command)
    assert result.code == 0 and result.err == "", (command, result)


def test_deleting_the_repository_from_a_subfolder_or_a_linked_path(locked, tmp_path):
    link = tmp_path / "alias"
    link.symlink_to(locked.path)
    for command in (f"rm -rf {link}", f"rm -rf {locked.path.parent}", "rm -rf ~/../repo"):
        result = bash(locked, command, cwd=locked.path / "src")
        assert result.code == 2, (command, result)


# ---------------------------------------------------------------------------
# The parser, as a property

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.-", min_size=1, max_size=8).filter(
    lambda n: n not in (".", "..") and not n.startswith("-"))


@settings(max_examples=500, deadline=None)
@given(st.lists(names, min_size=2, max_size=5, unique=True), st.sampled_from(
    ["touch {}", "rm -f {}", "echo x > {}", "sed -i s/a/b/ {}", "perl -0pi -e 1 {}",
     "truncate -s0 {}", "tee -a {} < /dev/null", "env A=1 nice {}", "bash -c 'touch {}'"]))
def test_brace_expansion_names_every_file(files, template):
    word = "d/{" + ",".join(files) + "}.py"
    if template.startswith("env"):
        template = "env A=1 nice touch {}"
    got = shellparse.write_targets(template.format(word), "/r")
    expected = ["/r/d/" + os.path.normpath(f + ".py") for f in files]
    assert got is not None
    for path in expected if not template.startswith("echo") else expected[:1]:
        assert path in got, (template, word, got)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="{},.ab/ '\"\\$-~;|&()<>*0123456789", max_size=40))
def test_any_text_is_parsed_or_refused_never_raises(text):
    got = shellparse.write_targets("touch " + text, "/r")
    assert got is None or all(isinstance(p, str) and p.startswith("/") for p in got)
    assert got is None or len(got) <= 10_000
