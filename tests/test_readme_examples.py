"""The README's Quick start runs as written: its install step, then its example, in a fresh repository.

The install line is `make install REPO=... SHIM=1`; the test points make at the
session's build (PYZ=, which also skips rebuilding dist/) and puts ~/.local/bin
on PATH, as the README asks. Every other word is the README's.
"""

import os
import re
import subprocess
import sys

import conftest
from conftest import ROOT, clean_env

PLACEHOLDER = "/path/to/your/repo"


def quick_start_blocks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Quick start"):]
    section = section[:section.index("\n## ", 5)]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def logical_lines(block):
    lines, current = [], ""
    for line in block.splitlines():
        current += line
        if current.endswith("\\"):
            current += "\n"  # the shell joins it
            continue
        if current.strip():
            lines.append(current)
        current = ""
    return lines


def expected_exit(line):
    found = re.search(r"#\s*exit (\d+)", line)
    return int(found.group(1)) if found else 0


def test_the_quick_start_runs_as_written(tmp_path):
    repo, home = tmp_path / "repo", tmp_path / "home"
    repo.mkdir()
    home.mkdir()
    env = clean_env(home, PYZ=str(conftest.PYZ))
    env["PATH"] = f"{home}/.local/bin{os.pathsep}{env['PATH']}"
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    lines = [line.replace(PLACEHOLDER, str(repo)) for block in quick_start_blocks() for line in logical_lines(block)]
    assert lines[0].startswith("make install ") and any("agent-sync hook" in line for line in lines)
    script = "".join(f"{line}\necho \"rc=$?\" >&2\n" for line in lines)
    proc = subprocess.run(["sh", "-c", script], cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=300)
    codes = [int(c) for c in re.findall(r"^rc=(\d+)$", proc.stderr, flags=re.M)]
    assert codes == [expected_exit(line) for line in lines], (lines, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "not found" not in proc.stderr, proc.stderr
    assert (home / ".local" / "bin" / "agent-sync").is_file()


def test_suggested_commands_run_where_they_are_shown(tmp_path):
    """Without the shim, what agent-sync prints to run (here doctor's fix) is the launcher, and it runs."""
    repo, home = tmp_path / "repo", tmp_path / "home"
    repo.mkdir()
    home.mkdir()
    env = clean_env(home, AGENT_SYNC_ID="ann")
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    py = [sys.executable, str(conftest.PYZ)]
    subprocess.run([*py, "install"], cwd=str(repo), env=env, check=True, capture_output=True)
    subprocess.run([*py, "lock", "a.py", "--ttl", "1s"], cwd=str(repo), env=env, check=True, capture_output=True)
    import time

    time.sleep(1.5)  # the lock expires, so doctor suggests gc
    out = subprocess.run([*py, "doctor"], cwd=str(repo), env=env, capture_output=True, text=True).stdout
    (fix,) = [line.split(" - fix: ", 1)[1] for line in out.splitlines() if "expired locks" in line]
    assert fix == ".claude/skills/agent-sync/scripts/agent-sync gc", out
    proc = subprocess.run(["sh", "-c", fix], cwd=str(repo), env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc
    sub = repo / "src"
    sub.mkdir()
    shown = subprocess.run([*py, "install"], cwd=str(sub), env=env, capture_output=True, text=True).stdout
    (hint,) = [line.split(": ", 1)[1] for line in shown.splitlines() if line.startswith("By hand, from here:")]
    proc = subprocess.run(["sh", "-c", hint], cwd=str(sub), env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and "agent-sync status" in proc.stdout, (hint, proc)
