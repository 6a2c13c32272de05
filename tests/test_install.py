"""`install` / `uninstall` into temporary git repositories, and the hook command they write, run for real."""

import glob
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile

import conftest
import pytest
from conftest import ROOT, clean_env

SKILL = (".claude", "skills", "agent-sync")
EVENTS = ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SubagentStart", "SessionEnd"]


def run(repo, *args, pyz=None, cwd=None, env=None, python=sys.executable):
    proc = subprocess.run([python, str(pyz or conftest.PYZ), *map(str, args)], cwd=str(cwd or repo.path),
                          env=clean_env(repo.home, **(env or {})), capture_output=True, text=True, timeout=120,
                          check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def ok(repo, *args, **kw):
    proc = run(repo, *args, **kw)
    assert proc.returncode == 0, proc
    return proc


def snapshot(root):
    """{path: bytes} of every file in the work tree, .git aside."""
    found = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, root)] = handle.read()
    return found


def settings(repo, name="settings.json"):
    return json.loads((repo.path / ".claude" / name).read_text())


def pre_tool_command(repo, name="settings.json"):
    groups = settings(repo, name)["hooks"]["PreToolUse"]
    return next(h["command"] for g in groups for h in g["hooks"] if "agent_sync" in h["command"])


def with_version(tmp_path, version):
    """A copy of the archive that reports another version."""
    out = tmp_path / f"agent-sync-{version}.pyz"
    with zipfile.ZipFile(conftest.PYZ) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename == "agent_sync/__init__.pyc":
                continue  # the bytecode would win over the edited source
            data = src.read(info)
            if info.filename == "agent_sync/__init__.py":
                data = re.sub(rb'__version__ = "[^"]*"', f'__version__ = "{version}"'.encode(), data)
            dst.writestr(info, data)
    return out


def fake_path(tmp_path, *tools, extra=None):
    """A PATH folder holding only the named tools (and `extra` scripts)."""
    folder = tmp_path / "fakebin"
    folder.mkdir(exist_ok=True)
    for tool in tools:
        (folder / tool).symlink_to(shutil.which(tool))
    for name, text in (extra or {}).items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    return str(folder)


# ---- fresh install --------------------------------------------------------------------------------------

def test_fresh_install_writes_archive_skill_state_dir_gitignore_and_hooks(repo):
    proc = ok(repo, "install")
    skill = repo.path.joinpath(*SKILL)
    assert (skill / "agent-sync.pyz").read_bytes() == conftest.PYZ.read_bytes()
    assert (skill / "SKILL.md").read_bytes() == (ROOT / "skill" / "SKILL.md").read_bytes()
    launcher = skill / "scripts" / "agent-sync"
    assert launcher.read_bytes() == (ROOT / "skill" / "scripts" / "agent-sync").read_bytes()
    assert launcher.stat().st_mode & stat.S_IXUSR
    assert (repo.path / ".gitignore").read_text() == ".claude/coordination/\n"
    assert list(settings(repo)["hooks"]) == EVENTS
    for groups in settings(repo)["hooks"].values():
        for handler in (h for g in groups for h in g["hooks"]):
            assert handler["command"].startswith("python3 -I -S -c ")
            assert '"$CLAUDE_PROJECT_DIR/.claude/skills/agent-sync/agent-sync.pyz"' in handler["command"]
    assert "lock gate works" in proc.stdout and "skill launcher works" in proc.stdout
    # The probe ran the hook without creating state: no database, no agent, no local id.
    assert os.listdir(repo.path / ".claude" / "coordination") == []


def test_install_from_a_subdirectory_targets_the_repository_root(repo):
    sub = repo.path / "src" / "deep"
    sub.mkdir(parents=True)
    ok(repo, "install", cwd=sub)
    assert (repo.path / ".claude" / "settings.json").is_file()
    assert not (sub / ".claude").exists()


def test_repo_flag_and_refusal_outside_git(repo, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = run(repo, "install", "--repo", plain)
    assert proc.returncode == 2 and "not inside a git repository" in proc.stderr
    assert os.listdir(plain) == []
    ok(repo, "install", "--repo", plain, "--force")
    assert (plain / ".claude" / "skills" / "agent-sync" / "agent-sync.pyz").is_file()
    ok(repo, "install", "--repo", repo.path / "..", "--force", cwd=tmp_path)  # DIR, not the cwd, decides


# ---- idempotence ----------------------------------------------------------------------------------------

def test_second_install_from_any_path_changes_nothing(repo, tmp_path):
    ok(repo, "install")
    before = snapshot(repo.path)
    other = tmp_path / "elsewhere" / "agent-sync.pyz"
    other.parent.mkdir()
    shutil.copy(conftest.PYZ, other)
    sub = repo.path / "pkg"
    sub.mkdir()
    ok(repo, "install")
    ok(repo, "install", pyz=other, cwd=sub)
    ok(repo, "install", pyz=repo.path.joinpath(*SKILL, "agent-sync.pyz"))
    launcher = repo.path.joinpath(*SKILL, "scripts", "agent-sync")
    subprocess.run(["sh", str(launcher), "install"], cwd=sub, env=clean_env(repo.home), check=True,
                   capture_output=True)
    assert snapshot(repo.path) == before


def test_gitignore_line_is_added_once_and_respects_existing_content(repo):
    (repo.path / ".gitignore").write_text("node_modules/\n*.log")  # no trailing newline
    ok(repo, "install")
    ok(repo, "install")
    assert (repo.path / ".gitignore").read_text() == "node_modules/\n*.log\n.claude/coordination/\n"
    (repo.path / ".gitignore").write_text("/.claude/coordination\n")
    ok(repo, "install")
    assert (repo.path / ".gitignore").read_text() == "/.claude/coordination\n"


# ---- existing user settings -------------------------------------------------------------------------------

USER_SETTINGS = {
    "permissions": {"allow": ["Bash(npm test)"], "deny": ["Read(.env)"]},
    "env": {"FOO": "bar"},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "./scripts/check-bash.sh"}]},
            {"matcher": "Edit|Write", "hooks": [
                {"type": "command", "command": "agent-sync hook pre-tool-use", "timeout": 5},
                {"type": "command", "command": "npx prettier --check"}]},
        ],
        "Stop": [{"hooks": [{"type": "command",
                             "command": '"$CLAUDE_PROJECT_DIR"/.claude/skills/agent-sync/scripts/agent-sync hook stop'}]}],
        "Notification": [{"hooks": [{"type": "command", "command": "notify-send claude"}]}],
    },
    "model": "opus",
}


def user_hook_commands(doc):
    return [h["command"] for groups in doc["hooks"].values() for g in groups for h in g["hooks"]
            if "agent-sync" not in h["command"] and "agent_sync" not in h["command"]]


def test_existing_keys_and_user_hooks_are_preserved_and_old_entries_replaced(repo):
    path = repo.path / ".claude" / "settings.json"
    path.parent.mkdir()
    original = json.dumps(USER_SETTINGS, indent=4) + "\n"
    path.write_text(original)
    ok(repo, "install")
    doc = settings(repo)
    assert list(doc) == ["permissions", "env", "hooks", "model"]
    assert {k: doc[k] for k in ("permissions", "env", "model")} == \
        {k: USER_SETTINGS[k] for k in ("permissions", "env", "model")}
    assert user_hook_commands(doc) == user_hook_commands(USER_SETTINGS)
    pre = doc["hooks"]["PreToolUse"]
    assert pre[0] == USER_SETTINGS["hooks"]["PreToolUse"][0]
    assert pre[1]["matcher"] == "Edit|Write|MultiEdit|NotebookEdit|Bash"  # ours, where the old entry was
    assert pre[2] == {"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "npx prettier --check"}]}
    ours = [h["command"] for groups in doc["hooks"].values() for g in groups for h in g["hooks"]
            if "agent_sync.hooks.entry" in h["command"]]
    assert len(ours) == len(EVENTS) + 1 and not any(" hook " in c for c in ours)  # + Stop's idle waiter
    assert path.read_text().startswith('{\n    "permissions"')  # the file's own indentation is kept
    backup = repo.path / ".claude" / "coordination" / "backups" / "settings.json.bak"
    assert backup.read_text() == original
    before = path.read_bytes()
    ok(repo, "install")
    assert path.read_bytes() == before


def test_a_private_settings_file_stays_private_and_so_does_its_backup(repo):
    path = repo.path / ".claude" / "settings.local.json"
    path.parent.mkdir()
    path.write_text('{"env": {"TOKEN": "secret"}}')
    path.chmod(0o600)
    ok(repo, "install", "--settings", "local")
    backup = repo.path / ".claude" / "coordination" / "backups" / "settings.local.json.bak"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert settings(repo, "settings.local.json")["env"] == {"TOKEN": "secret"}


def test_settings_local_leaves_the_shared_file_alone(repo):
    ok(repo, "install", "--settings", "local")
    assert not (repo.path / ".claude" / "settings.json").exists()
    assert list(settings(repo, "settings.local.json")["hooks"]) == EVENTS


def test_no_hooks_installs_the_skill_only_and_says_so(repo):
    proc = ok(repo, "install", "--no-hooks")
    assert not (repo.path / ".claude" / "settings.json").exists()
    assert repo.path.joinpath(*SKILL, "agent-sync.pyz").is_file()
    assert "NOT installed" in proc.stdout


@pytest.mark.parametrize("text, where", [
    ('{\n  "model": "opus",\n}\n', "line 3, column 1"),
    ('{"hooks": {"PreToolUse": [}}', "line 1, column 27"),
])
def test_invalid_settings_are_refused_and_left_byte_identical(repo, text, where):
    path = repo.path / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(text)
    proc = run(repo, "install")
    assert proc.returncode == 2
    assert "invalid JSON" in proc.stderr and where in proc.stderr and "settings.json" in proc.stderr
    assert path.read_text() == text
    assert snapshot(repo.path) == {os.path.join(".claude", "settings.json"): text.encode()}  # nothing else either
    proc = run(repo, "uninstall")
    assert proc.returncode == 2 and where in proc.stderr and path.read_text() == text


# ---- uninstall ---------------------------------------------------------------------------------------------

def test_uninstall_removes_only_what_install_added(repo):
    (repo.path / ".gitignore").write_text("dist/\n")
    path = repo.path / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(USER_SETTINGS, indent=2) + "\n")
    ok(repo, "install")
    repo.ok("status")  # creates the database
    notes = repo.path.joinpath(*SKILL, "my-notes.md")
    notes.write_text("mine")
    proc = ok(repo, "uninstall")
    doc = settings(repo)
    assert user_hook_commands(doc) == user_hook_commands(USER_SETTINGS)
    assert not any("agent" in h["command"] for groups in doc["hooks"].values() for g in groups for h in g["hooks"])
    assert {k: doc[k] for k in ("permissions", "env", "model")} == \
        {k: USER_SETTINGS[k] for k in ("permissions", "env", "model")}
    assert (repo.path / ".gitignore").read_text() == "dist/\n"
    assert sorted(os.listdir(repo.path.joinpath(*SKILL))) == ["my-notes.md"]  # user content stays
    assert repo.db.is_file() and "kept .claude/coordination" in proc.stdout
    ok(repo, "uninstall")  # nothing left to remove: still fine
    ok(repo, "uninstall", "--purge")
    assert not (repo.path / ".claude" / "coordination").exists()


def test_install_then_uninstall_on_a_fresh_repo_leaves_it_as_it_was(repo):
    ok(repo, "install")
    ok(repo, "uninstall", "--purge")
    assert snapshot(repo.path) == {}
    assert not (repo.path / ".claude").exists()


# ---- upgrades ---------------------------------------------------------------------------------------------

def test_newer_archive_upgrades_in_place_and_downgrade_needs_force(repo, tmp_path):
    old = with_version(tmp_path, "0.0.1")
    newer = with_version(tmp_path, "99.0.0")
    target = repo.path.joinpath(*SKILL, "agent-sync.pyz")
    ok(repo, "install", pyz=old)
    assert target.read_bytes() == old.read_bytes()
    settings_before = (repo.path / ".claude" / "settings.json").read_bytes()
    proc = ok(repo, "install")
    assert target.read_bytes() == conftest.PYZ.read_bytes() and "replaced 0.0.1 with" in proc.stdout
    assert (repo.path / ".claude" / "settings.json").read_bytes() == settings_before
    proc = run(repo, "install", pyz=old)
    assert proc.returncode == 2 and "--force" in proc.stderr
    assert target.read_bytes() == conftest.PYZ.read_bytes()
    ok(repo, "install", pyz=newer)
    ok(repo, "install", "--force")
    assert target.read_bytes() == conftest.PYZ.read_bytes()


def test_install_from_the_source_tree_packs_a_working_archive(repo):
    """The path a pip install takes: no .pyz to copy, so install packs the package itself."""
    proc = subprocess.run([sys.executable, "-m", "agent_sync", "install"], cwd=repo.path, capture_output=True,
                          text=True, env=clean_env(repo.home, PYTHONPATH=ROOT), timeout=120, check=False)
    assert proc.returncode == 0, proc
    target = repo.path.joinpath(*SKILL, "agent-sync.pyz")
    from agent_sync.install import archive

    sources, data, compiled, _when, _shebang = archive.unpack(target.read_bytes())
    assert "agent_sync/_data/skill/SKILL.md" in data and "agent_sync/hooks/entry.py" in compiled
    version = subprocess.run([sys.executable, str(target), "--version"], capture_output=True, text=True, check=False)
    assert version.stdout.startswith("agent-sync ")


def test_pyproject_lists_every_subpackage():
    text = (ROOT / "pyproject.toml").read_text()
    for init in (ROOT / "agent_sync").rglob("__init__.py"):
        package = ".".join(init.parent.relative_to(ROOT).parts)
        assert f'"{package}"' in text, f"{package} is missing from [tool.setuptools] packages"


# ---- the gate, end to end -----------------------------------------------------------------------------------

def run_hook(repo, command, cwd, payload):
    return subprocess.run(["sh", "-c", command], cwd=cwd, input=json.dumps(payload), capture_output=True,
                          text=True, timeout=60, env=clean_env(repo.home, CLAUDE_PROJECT_DIR=repo.path), check=False)


def denial(proc):
    """The reason of the installed command's refusal: Claude Code's deny decision, on exit 0."""
    assert proc.returncode == 0, proc
    decision = json.loads(proc.stdout)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "deny", decision
    return decision["permissionDecisionReason"]


def test_written_pre_tool_use_command_blocks_a_locked_file_from_a_subdirectory(repo):
    ok(repo, "install")
    src = repo.path / "src"
    src.mkdir()
    (src / "app.py").write_text("x = 1\n")
    repo.ok("lock", "src/app.py", "--reason", "refactor", agent="alice")
    command = pre_tool_command(repo)
    base = {"session_id": "bob-session", "hook_event_name": "PreToolUse", "cwd": str(src)}
    edit = dict(base, tool_name="Edit", tool_input={"file_path": str(src / "app.py"), "old_string": "x",
                                                     "new_string": "y"})
    proc = run_hook(repo, command, src, edit)
    reason = denial(proc)
    assert "BLOCKED" in reason and "src/app.py" in reason and "alice" in reason
    shell = dict(base, tool_name="Bash", tool_input={"command": "echo y > app.py"})
    assert "src/app.py" in denial(run_hook(repo, command, src, shell))
    free = dict(edit, tool_input={"file_path": str(src / "other.py"), "old_string": "", "new_string": ""})
    proc = run_hook(repo, command, src, free)
    assert (proc.returncode, proc.stderr) == (0, "")
    owner = dict(edit, session_id=None)
    proc = subprocess.run(["sh", "-c", command], cwd=src, input=json.dumps(owner), capture_output=True, text=True,
                          env=clean_env(repo.home, CLAUDE_PROJECT_DIR=repo.path, AGENT_SYNC_ID="alice"), check=False)
    assert proc.returncode == 0, proc  # a lock never blocks its owner


def test_install_still_verifies_when_a_lock_covers_the_probe(repo):
    ok(repo, "install")
    repo.ok("lock", ".claude/", agent="alice")
    assert "lock gate works" in ok(repo, "install").stdout


def test_missing_python3_is_reported_loudly(repo, tmp_path):
    path = fake_path(tmp_path, "sh", "dirname")
    proc = run(repo, "install", env={"PATH": path})
    assert proc.returncode == 8  # gate-broken
    assert "lock gate is OFF" in proc.stderr and "python3" in proc.stderr
    assert "launcher" in proc.stderr


def test_old_python3_is_reported_loudly(repo, tmp_path):
    old = "#!/bin/sh\necho 3.8\nexit 0\n"
    path = fake_path(tmp_path, "sh", "dirname", extra={"python3": old})
    proc = run(repo, "install", env={"PATH": path})
    assert proc.returncode == 8 and "Python 3.8" in proc.stderr and "lock gate is OFF" in proc.stderr


def test_broken_archive_is_reported_loudly(repo, tmp_path):
    ok(repo, "install")
    target = repo.path.joinpath(*SKILL, "agent-sync.pyz")
    os.chmod(target, 0o644)
    command = pre_tool_command(repo)
    target.write_bytes(b"not a zip")
    proc = run_hook(repo, command, repo.path, {"tool_name": "Edit", "tool_input": {"file_path": "a"}})
    assert proc.returncode not in (0, 2)  # what Claude Code would see: a non-blocking error


# ---- the launcher -------------------------------------------------------------------------------------------

def test_launcher_runs_from_anywhere_and_fails_loudly_without_python(repo, tmp_path):
    ok(repo, "install")
    launcher = repo.path.joinpath(*SKILL, "scripts", "agent-sync")
    proc = subprocess.run([str(launcher), "--version"], cwd=tmp_path, capture_output=True, text=True,
                          env=clean_env(repo.home), check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("agent-sync ")
    path = fake_path(tmp_path, "sh", "dirname")
    proc = subprocess.run(["sh", str(launcher), "--version"], capture_output=True, text=True,
                          env=clean_env(repo.home, PATH=path), check=False)
    assert proc.returncode == 127 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Python 3.10" in proc.stderr


def test_launcher_without_its_archive_fails_loudly(tmp_path):
    copy = tmp_path / "scripts" / "agent-sync"
    copy.parent.mkdir()
    shutil.copy(ROOT / "skill" / "scripts" / "agent-sync", copy)
    proc = subprocess.run(["sh", str(copy), "status"], capture_output=True, text=True, check=False)
    assert proc.returncode == 127 and "agent-sync.pyz" in proc.stderr and proc.stderr.count("\n") == 1


# ---- the skill text ------------------------------------------------------------------------------------------

def test_skill_frontmatter_and_size():
    text = (ROOT / "skill" / "SKILL.md").read_text()
    assert len(text.splitlines()) <= 200
    head = text.split("---\n")[1]
    fields = dict(line.split(": ", 1) for line in head.strip().splitlines())
    assert fields["name"] == "agent-sync"
    assert 100 < len(fields["description"]) <= 1536
    assert fields["allowed-tools"] == "Bash(${CLAUDE_SKILL_DIR}/scripts/agent-sync *)"
    injected = re.findall(r"(?:^|\s)!`([^`]*)`", text)
    assert injected == ["${CLAUDE_SKILL_DIR}/scripts/agent-sync status --compact"]


def test_every_command_the_skill_names_exists(repo):
    text = (ROOT / "skill" / "SKILL.md").read_text()
    named = set(re.findall(r"scripts/agent-sync ([a-z][a-z-]+)", text))
    named |= set(re.findall(r"`([a-z]+(?:-[a-z]+)*)[ `]", text)) - {"cp", "git", "mv", "rm", "sed", "tee"}
    assert {"claim-task", "lock", "send", "complete-task", "heartbeat"} <= named
    helptext = repo.ok("--help").out
    missing = sorted(n for n in named if not re.search(rf"^\s+{n}\s", helptext, re.MULTILINE))
    assert not missing, missing
    for name in ("lock", "send", "claim-task", "create-task"):
        spans = re.findall(rf"(?<![a-z-]){name} ([^`\n]*)", text)
        options = {o for span in spans for o in re.findall(r"--[a-z][a-z-]*", span)}
        assert options, name
        command_help = repo.ok(name, "--help").out
        assert all(o in command_help for o in options), (name, options)


def _skill_copy(tmp_path, pyz_bytes, name="skill"):
    """A skill folder holding the launcher and the given archive."""
    skill = tmp_path / name
    (skill / "scripts").mkdir(parents=True)
    launcher = skill / "scripts" / "agent-sync"
    shutil.copyfile(ROOT / "skill" / "scripts" / "agent-sync", launcher)
    launcher.chmod(0o755)
    (skill / "agent-sync.pyz").write_bytes(pyz_bytes)
    return launcher


def _with_minimum(pyz, minimum):
    """The archive with __main__'s version floor raised (and its bytecode dropped, so the source counts)."""
    from agent_sync.install import archive

    sources, data, compiled, when, shebang = archive.unpack(pyz.read_bytes())
    name = "agent_sync/__main__.py"
    assert "MINIMUM = (3, 10)" in sources[name]
    sources[name] = sources[name].replace("MINIMUM = (3, 10)", f"MINIMUM = {minimum!r}")
    del compiled[name]
    return archive.pack(sources, data, compiled, when=when, shebang=shebang)


def test_launcher_starts_one_interpreter_isolated(tmp_path):
    """The launcher execs python3 once, with -I -S: a python3 that logs its arguments shows it."""
    launcher = _skill_copy(tmp_path, conftest.PYZ.read_bytes())
    log = tmp_path / "calls.log"
    spy = f'#!/bin/sh\necho "$@" >> {log}\nexec {sys.executable} "$@"\n'
    path = fake_path(tmp_path, "sh", "dirname", extra={"python3": spy})
    proc = subprocess.run([str(launcher), "--version"], capture_output=True, text=True,
                          env=clean_env(tmp_path, PATH=path), check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("agent-sync "), proc
    calls = log.read_text().splitlines()
    assert len(calls) == 1 and calls[0].startswith("-I -S -c "), calls


def test_launcher_on_a_too_old_python_says_so_in_one_line(tmp_path):
    """The archive checks the version itself: with nothing newer on PATH, one line and exit 127."""
    launcher = _skill_copy(tmp_path, _with_minimum(conftest.PYZ, (99, 0)))
    path = fake_path(tmp_path, "sh", "dirname", extra={"python3": f'#!/bin/sh\nexec {sys.executable} "$@"\n'})
    proc = subprocess.run([str(launcher), "status"], capture_output=True, text=True,
                          env=clean_env(tmp_path, PATH=path), check=False)
    assert proc.returncode == 127 and proc.stdout == "", proc
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("agent-sync: needs Python 99.0 or newer"), proc
    assert "Python %d.%d" % sys.version_info[:2] in proc.stderr and "AGENT_SYNC_PYTHON" in proc.stderr


# Real interpreters older than 3.10 (pyenv builds, distribution ones), not shims.
OLD_PYTHONS = sorted({os.path.realpath(p) for p in glob.glob("/root/.pyenv/versions/[23].[0-9].*/bin/python[23]")
                      + glob.glob("/usr/bin/python3.[6-9]") + glob.glob("/usr/bin/python2.7")})


@pytest.mark.skipif(not OLD_PYTHONS, reason="no Python older than 3.10 on this machine")
@pytest.mark.parametrize("old", OLD_PYTHONS)
def test_launcher_on_a_real_old_python(tmp_path, old):
    """A real old python3 reads __main__ (no syntax it lacks), then runs a newer python3.1x from PATH,
    or says in one line that there is none."""
    launcher = _skill_copy(tmp_path, conftest.PYZ.read_bytes())
    alone = fake_path(tmp_path, "sh", "dirname", extra={"python3": f'#!/bin/sh\nexec {old} "$@"\n'})
    env = clean_env(tmp_path, PATH=alone)
    proc = subprocess.run([str(launcher), "--version"], capture_output=True, text=True, env=env, check=False)
    if old.endswith("python2") or "/2." in old:
        assert proc.returncode != 0 and "agent-sync 0" not in proc.stdout  # no -I: python 2 refuses at once
        return
    assert proc.returncode == 127 and proc.stdout == "", proc
    assert proc.stderr.count("\n") == 1 and "needs Python 3.10 or newer" in proc.stderr, proc
    newer = tmp_path / "fakebin" / f"python3.{sys.version_info[1]}"
    newer.symlink_to(sys.executable)
    proc = subprocess.run([str(launcher), "--version"], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("agent-sync "), proc


def test_a_pip_install_carries_every_module_and_installs_a_repo(repo, tmp_path):
    """pip (no build isolation: setuptools is pinned in the dev requirements) builds from pyproject.toml."""
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", ".cache", "dist", "bench", "tests",
                                                               "__pycache__", "build", "*.egg-info"))
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--disable-pip-version-check", "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    shipped = {p.relative_to(target).as_posix() for p in (target / "agent_sync").rglob("*.py")}
    expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / "agent_sync").rglob("*.py")}
    assert expected <= shipped, sorted(expected - shipped)
    run = subprocess.run([sys.executable, "-m", "agent_sync", "install"], cwd=repo.path, capture_output=True,
                         text=True, env=clean_env(repo.home, PYTHONPATH=target), timeout=120, check=False)
    assert run.returncode == 0, run
    assert repo.path.joinpath(*SKILL, "agent-sync.pyz").is_file()
