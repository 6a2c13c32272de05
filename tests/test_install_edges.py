"""Install and uninstall against hostile checkouts: symlinks out of the repository, a permissive umask."""

import json
import os
import stat
import subprocess
import sys

import conftest
import pytest
from conftest import clean_env

SKILL = (".claude", "skills", "agent-sync")


def run(repo, *args, cwd=None, env=None, umask=None, input=None):
    pre = [] if umask is None else ["-c", f"import os,runpy,sys;os.umask({umask:#o});sys.argv=sys.argv[1:];"
                                          "runpy.run_path(sys.argv[0],run_name='__main__')"]
    proc = subprocess.run([sys.executable, *pre, str(conftest.PYZ), *map(str, args)], cwd=str(cwd or repo.path),
                          env=clean_env(repo.home, **(env or {})), capture_output=True, text=True, timeout=120,
                          check=False, input=input)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


SESSION_START = json.dumps({"session_id": "s-1", "hook_event_name": "SessionStart", "source": "startup"})


def tree(root):
    """{relative path: bytes, or 'link -> target', or 'dir'} of everything under root, .git aside."""
    found = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names + dirs:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                found[rel] = "link -> " + os.readlink(path)
            elif os.path.isdir(path):
                found[rel] = "dir"
            else:
                with open(path, "rb") as handle:
                    found[rel] = handle.read()
    return found


# (path in the repo that is a link, what it points at outside: "dir" or file text, extra install flags)
LINKS = [
    (".claude", "dir", []),
    (".claude/settings.json", '{"hooks": {}, "mine": 1}\n', []),
    (".claude/settings.local.json", '{"mine": 1}\n', ["--settings", "local"]),
    (".claude/skills", "dir", []),
    (".claude/skills/agent-sync", "dir", []),
    (".claude/skills/agent-sync/agent-sync.pyz", "not an archive\n", []),
    (".claude/skills/agent-sync/scripts", "dir", []),
    (".claude/coordination", "dir", []),
    (".gitignore", "*.o\n", []),
    (".codex", "dir", ["--agent", "codex"]),
    (".codex/hooks.json", '{"hooks": {}}\n', ["--agent", "codex"]),
    (".gemini/settings.json", "{}\n", ["--agent", "gemini"]),
    ("GEMINI.md", "# mine\n", ["--agent", "gemini"]),
    (".cursor/hooks.json", '{"version": 1}\n', ["--agent", "cursor"]),
    (".github/hooks/agent-sync.json", '{"version": 1}\n', ["--agent", "copilot"]),
    (".windsurf/hooks.json", "{}\n", ["--agent", "windsurf"]),
    (".mcp.json", "{}\n", ["--mcp"]),
]


def link_out(repo, tmp_path, rel, content):
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    target = outside / rel.replace("/", "_")
    if content == "dir":
        target.mkdir()
    else:
        target.write_text(content)
    place = repo.path / rel
    place.parent.mkdir(parents=True, exist_ok=True)
    place.symlink_to(target, target_is_directory=content == "dir")
    return outside


@pytest.mark.parametrize("rel,content,flags", LINKS, ids=[rel for rel, _, _ in LINKS])
def test_install_refuses_to_write_through_a_link_out_of_the_repository(repo, tmp_path, rel, content, flags):
    outside = link_out(repo, tmp_path, rel, content)
    before, inside = tree(outside), tree(repo.path)
    proc = run(repo, "install", *flags)
    assert proc.returncode == 2, proc
    assert proc.stderr.count("\n") == 1 and "symbolic link" in proc.stderr and "outside the repository" in proc.stderr
    assert rel in proc.stderr.splitlines()[0] or rel.split("/")[0] in proc.stderr
    assert tree(outside) == before and tree(repo.path) == inside  # nothing written anywhere


@pytest.mark.parametrize("rel,content,flags", LINKS, ids=[rel for rel, _, _ in LINKS])
def test_uninstall_refuses_to_change_or_delete_through_a_link_out(repo, tmp_path, rel, content, flags):
    assert run(repo, "install", "--agent", "all", "--mcp").returncode == 0
    place = repo.path / rel
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "moved"
    if place.exists():
        place.rename(target)  # what we installed, now reached through a link
    elif content == "dir":
        target.mkdir()
    else:
        target.write_text(content)
    place.parent.mkdir(parents=True, exist_ok=True)
    place.symlink_to(target, target_is_directory=target.is_dir())
    before, inside = tree(outside), tree(repo.path)
    proc = run(repo, "uninstall", "--purge")
    assert proc.returncode == 2 and "outside the repository" in proc.stderr, proc
    assert tree(outside) == before and tree(repo.path) == inside


def test_a_link_that_stays_inside_the_repository_is_followed(repo):
    (repo.path / "config").mkdir()
    (repo.path / "config" / "claude.json").write_text('{"mine": 1}\n')
    (repo.path / ".claude").mkdir()
    (repo.path / ".claude" / "settings.json").symlink_to("../config/claude.json")
    proc = run(repo, "install")
    assert proc.returncode == 0, proc
    assert (repo.path / ".claude" / "settings.json").is_symlink()
    merged = json.loads((repo.path / "config" / "claude.json").read_text())
    assert merged["mine"] == 1 and "PreToolUse" in merged["hooks"]


def open_to_others(root):
    return {os.path.relpath(p, root): oct(stat.S_IMODE(os.stat(p).st_mode))
            for p in [str(root), *(os.path.join(f, n) for f, ds, ns in os.walk(root) if ".git" not in f.split(os.sep)
                                   for n in ds + ns if n != ".git")]
            if os.stat(p).st_mode & 0o022}


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_under_umask_000_nothing_created_is_writable_by_others(repo):
    os.chmod(repo.path, 0o755)
    assert run(repo, "install", "--agent", "all", "--mcp", umask=0).returncode == 0
    assert run(repo, "hook", "session-start", umask=0, env={"AGENT_SYNC_ID": "ann"}, input=SESSION_START).returncode == 0
    for args in (["lock", "src/a.py"], ["send", "--to", "all", "--message", "hi"],
                 ["create-task", "t"], ["inbox"], ["status"]):
        proc = run(repo, *args, umask=0, env={"AGENT_SYNC_ID": "ann"})
        assert proc.returncode == 0, proc
    assert open_to_others(repo.path) == {}
    skill = repo.path.joinpath(*SKILL)
    assert mode(skill / "agent-sync.pyz") == 0o755 and mode(skill / "scripts" / "agent-sync") == 0o755
    assert mode(skill / "SKILL.md") == 0o644 and mode(repo.path / ".claude" / "settings.json") == 0o644
    assert mode(skill) == 0o755 and mode(repo.path / ".claude" / "coordination") == 0o755
    assert mode(repo.db) == 0o644
    doctor = run(repo, "doctor", umask=0)
    assert "ok    exposure: nothing the hooks run or trust" in doctor.stdout, doctor  # other agents' trust aside


def test_a_hook_that_creates_the_database_under_umask_000_keeps_it_private_to_write(repo):
    proc = run(repo, "hook", "session-start", umask=0, env={"AGENT_SYNC_ID": "ann"}, input=SESSION_START)
    assert proc.returncode == 0 and repo.db.is_file(), proc
    assert open_to_others(repo.path) == {}


@pytest.mark.parametrize("rel", [".", ".claude", ".claude/settings.json", ".claude/skills", ".claude/skills/agent-sync",
                                 ".claude/skills/agent-sync/agent-sync.pyz", ".claude/skills/agent-sync/scripts",
                                 ".claude/skills/agent-sync/scripts/agent-sync", ".claude/coordination",
                                 ".claude/coordination/state.sqlite", ".claude/coordination/locks.idx"])
def test_doctor_flags_what_hooks_run_or_trust_when_others_may_write_it(repo, rel):
    assert run(repo, "install").returncode == 0
    assert run(repo, "lock", "src/a.py", env={"AGENT_SYNC_ID": "ann"}).returncode == 0
    target = repo.path / rel
    os.chmod(target, mode(target) | (0o002 if "skills" in rel else 0o020))
    doctor = run(repo, "doctor")
    (line,) = [ln for ln in doctor.stdout.splitlines() if ln.startswith("FAIL  exposure")]
    assert doctor.returncode == 7 and os.path.normpath(rel) in line and "chmod go-w" in line, doctor
