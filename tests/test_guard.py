"""The git commit guard, end to end: `guard install` into a temporary repository, then
real `git commit`s that the pre-commit hook refuses or allows, with and without a
pre-existing hook, plus uninstall, core.hooksPath, identities and trailers."""

import shutil
import stat
import subprocess
import sys

import pytest
from conftest import PYZ, clean_env

GIT_IDENTITY = {"GIT_AUTHOR_NAME": "Tester", "GIT_AUTHOR_EMAIL": "tester@example.com",
                "GIT_COMMITTER_NAME": "Tester", "GIT_COMMITTER_EMAIL": "tester@example.com"}
USER_HOOK = b'#!/bin/sh\necho "user hook ran" >> "$(git rev-parse --git-dir)/user-hook.log"\nexit ${USER_HOOK_EXIT:-0}\n'


def git(repo, *args, agent=None, env=None, cwd=None):
    extra = {**repo.env, **GIT_IDENTITY}  # the hook git runs sees the test's store, as agent-sync does
    if agent is not None:
        extra["AGENT_SYNC_ID"] = agent
    extra.update(env or {})
    return subprocess.run(["git", *args], cwd=str(cwd or repo.path), env=clean_env(repo.home, **extra),
                          capture_output=True, text=True, timeout=60, check=False)


def commit(repo, *paths, message="change", agent=None, env=None, flags=()):
    """Touch and stage `paths`, then commit. Returns the CompletedProcess."""
    for rel in paths:
        path = repo.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{message}\n")
    if paths:
        assert git(repo, "add", *paths).returncode == 0
    return git(repo, "commit", "-m", message, *flags, agent=agent, env=env)


def commits(repo):
    result = git(repo, "rev-list", "--count", "HEAD")
    return int(result.stdout) if result.returncode == 0 else 0


def hooks(repo):
    return repo.path / ".git" / "hooks"


@pytest.fixture
def guarded(repo):
    """A repository with one commit, the coordination state ignored, and the guard installed."""
    (repo.path / ".gitignore").write_text(".claude/\n")
    assert commit(repo, "README.md", message="initial").returncode == 0
    out = repo.ok("guard", "install").out
    assert "installed pre-commit hook" in out and "--no-verify" in out
    return repo


def test_commit_of_a_file_locked_by_another_agent_is_refused(guarded):
    repo = guarded
    repo.ok("lock", "src/**", "--reason", "refactoring the core", agent="alice")
    before = commits(repo)
    refused = commit(repo, "src/core.py", "notes.txt", agent="bob")
    assert refused.returncode != 0, refused
    assert "src/core.py: locked by alice [alice] (lock src/**) - refactoring the core" in refused.stderr
    assert "notes.txt" not in refused.stderr  # only locked files are named
    assert "git commit --no-verify" in refused.stderr
    assert commits(repo) == before
    assert git(repo, "reset", "-q", "src/core.py").returncode == 0
    assert commit(repo, message="just notes", agent="bob").returncode == 0  # notes.txt alone is fine
    assert commit(repo, "src/core.py", message="owner commits", agent="alice").returncode == 0
    escaped = commit(repo, "src/core.py", message="escape hatch", agent="bob", flags=("--no-verify",))
    assert escaped.returncode == 0, escaped.stderr
    assert commits(repo) == before + 3


def test_deleting_or_renaming_a_locked_file_is_refused(guarded):
    repo = guarded
    assert commit(repo, "lib/old.py", "lib/keep.py", message="add lib").returncode == 0
    repo.ok("lock", "--shared", "lib/", agent="alice")
    assert git(repo, "mv", "lib/old.py", "moved.py").returncode == 0
    refused = git(repo, "commit", "-m", "move it", agent="bob")
    assert refused.returncode != 0 and "lib/old.py: locked shared by alice" in refused.stderr, refused.stderr
    repo.ok("lock", "--shared", "lib/old.py", agent="bob")  # a holder of one of the shared locks may commit
    assert git(repo, "commit", "-m", "move it", agent="bob").returncode == 0


def test_identity_comes_from_the_session(guarded):
    repo = guarded
    mine = {"CLAUDE_CODE_SESSION_ID": "session-one"}
    repo.ok("lock", "app.py", env=mine)
    me = repo.json("whoami", env=mine)["id"]
    assert commit(repo, "app.py", env=mine).returncode == 0
    refused = commit(repo, "app.py", env={"CLAUDE_CODE_SESSION_ID": "session-two"})
    assert refused.returncode != 0 and f"[{me}]" in refused.stderr, refused.stderr


def test_without_a_database_commits_are_allowed(guarded):
    repo = guarded
    assert commit(repo, "a.py", agent="bob").returncode == 0
    assert not repo.db.exists()


def test_existing_hook_is_chained_and_restored_byte_for_byte(repo):
    (repo.path / ".gitignore").write_text(".claude/\n")
    user_hook = hooks(repo) / "pre-commit"
    user_hook.write_bytes(USER_HOOK)
    user_hook.chmod(0o750)
    assert commit(repo, "README.md", message="initial").returncode == 0
    log = repo.path / ".git" / "user-hook.log"
    assert log.read_text() == "user hook ran\n"

    repo.ok("guard", "install")
    saved = hooks(repo) / "pre-commit.agent-sync-prev"
    assert saved.read_bytes() == USER_HOOK
    installed = user_hook.read_bytes()
    repo.ok("guard", "install")  # idempotent: our own hook is never saved as "previous"
    assert user_hook.read_bytes() == installed and saved.read_bytes() == USER_HOOK

    assert commit(repo, "free.py", agent="bob").returncode == 0
    assert log.read_text().count("user hook ran") == 2
    failing = commit(repo, "free.py", agent="bob", env={"USER_HOOK_EXIT": "1"})
    assert failing.returncode != 0, "the previous hook's failure must fail the commit"
    assert git(repo, "reset", "-q").returncode == 0
    repo.ok("lock", "locked.py", agent="alice")
    refused = commit(repo, "locked.py", agent="bob")
    assert refused.returncode != 0 and "locked.py: locked by alice" in refused.stderr
    assert log.read_text().count("user hook ran") == 4  # it ran first both times

    out = repo.ok("guard", "uninstall").out
    assert "restored the previous pre-commit hook" in out
    assert user_hook.read_bytes() == USER_HOOK
    assert stat.S_IMODE(user_hook.stat().st_mode) == 0o750
    assert not saved.exists()


def test_uninstall_without_a_previous_hook_removes_ours(guarded):
    repo = guarded
    assert "removed pre-commit hook" in repo.ok("guard", "uninstall").out
    assert not (hooks(repo) / "pre-commit").exists()
    assert "no agent-sync guard hooks" in repo.ok("guard", "uninstall").out
    repo.ok("lock", "x.py", agent="alice")
    assert commit(repo, "x.py", agent="bob").returncode == 0


def test_a_foreign_hook_over_a_saved_one_is_left_alone(guarded):
    repo = guarded
    pre_commit = hooks(repo) / "pre-commit"
    saved = hooks(repo) / "pre-commit.agent-sync-prev"
    saved.write_bytes(USER_HOOK)
    pre_commit.write_bytes(b"#!/bin/sh\nexit 0\n")  # someone else replaced our hook
    refused = repo.run("guard", "install")
    assert refused.code == 3 and "already exists" in refused.err, refused
    assert repo.ok("guard", "uninstall").out.startswith("left ")
    assert pre_commit.read_bytes() == b"#!/bin/sh\nexit 0\n" and saved.read_bytes() == USER_HOOK


def test_core_hooks_path_is_honoured(repo):
    (repo.path / ".gitignore").write_text(".claude/\n")
    assert commit(repo, "README.md", message="initial").returncode == 0
    assert git(repo, "config", "core.hooksPath", ".githooks").returncode == 0
    repo.ok("guard", "install", cwd=repo.path)
    assert (repo.path / ".githooks" / "pre-commit").exists()
    assert not (hooks(repo) / "pre-commit").exists()
    repo.ok("lock", "src/", agent="alice")
    assert commit(repo, "src/x.py", agent="bob").returncode != 0


def test_hook_prefers_the_installed_archive_and_falls_back(repo, tmp_path):
    (repo.path / ".gitignore").write_text(".claude/\n")
    assert commit(repo, "README.md", message="initial").returncode == 0
    elsewhere = tmp_path / "elsewhere" / "agent-sync.pyz"
    elsewhere.parent.mkdir()
    shutil.copyfile(PYZ, elsewhere)
    installed = repo.path / ".claude" / "skills" / "agent-sync" / "agent-sync.pyz"
    proc = subprocess.run([sys.executable, str(elsewhere), "guard", "install"], cwd=str(repo.path),
                          env=clean_env(repo.home), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    script = (hooks(repo) / "pre-commit").read_text()
    assert script.index(str(installed)) < script.index(str(elsewhere))

    repo.ok("lock", "locked.py", agent="alice")
    assert commit(repo, "locked.py", agent="bob").returncode != 0  # runs the fallback archive
    elsewhere.unlink()
    allowed = commit(repo, "locked.py", agent="bob")
    assert allowed.returncode == 0 and "agent-sync.pyz not found" in allowed.stderr
    installed.parent.mkdir(parents=True)
    shutil.copyfile(PYZ, installed)
    assert commit(repo, "locked.py", agent="bob").returncode != 0  # runs the installed archive


def test_trailers_name_the_agent_and_its_task(repo):
    (repo.path / ".gitignore").write_text(".claude/\n")
    assert commit(repo, "README.md", message="initial").returncode == 0
    repo.ok("guard", "install", "--trailers")
    repo.ok("register", "--name", "builder", agent="bob")
    repo.ok("create-task", "Add login endpoint", agent="bob")
    repo.ok("claim-task", "1", agent="bob")
    assert commit(repo, "api.py", message="Add login", agent="bob").returncode == 0
    body = git(repo, "log", "-1", "--format=%B").stdout
    assert "Agent-Sync-Agent: builder [bob]" in body and "Agent-Sync-Task: #1 Add login endpoint" in body, body
    assert git(repo, "commit", "--amend", "--no-edit", agent="bob").returncode == 0
    body = git(repo, "log", "-1", "--format=%B").stdout
    assert body.count("Agent-Sync-Agent:") == 1 and body.count("Agent-Sync-Task:") == 1, body
    # An empty message written in the editor still aborts the commit: no trailers are added to it.
    before = commits(repo)
    (repo.path / "api.py").write_text("more\n")
    git(repo, "add", "api.py")
    aborted = git(repo, "commit", agent="bob", env={"GIT_EDITOR": "true"})
    assert aborted.returncode != 0 and commits(repo) == before, aborted.stderr
    out = repo.ok("guard", "uninstall").out
    assert "removed prepare-commit-msg hook" in out
    assert not (hooks(repo) / "prepare-commit-msg").exists()


def test_guard_outside_a_git_repository_is_a_usage_error(repo, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    result = repo.run("guard", "install", cwd=plain, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert result.code == 2 and "git" in result.err, result
