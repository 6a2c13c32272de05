"""Where paths point, where the database lives, and who the caller is."""

import json
import os
import subprocess
import sys

import pytest
from conftest import PYZ, clean_env


def lock_paths(repo, **kw):
    return [lk["path"] for lk in repo.json("locks", **kw)["locks"]]


# ---------------------------------------------------------------------------
# Paths on the command line


def test_relative_path_resolves_against_current_directory(repo):
    (repo.path / "src").mkdir()
    repo.ok("lock", "foo.py", agent="a", cwd=repo.path / "src")
    assert lock_paths(repo, agent="a") == ["src/foo.py"]


def test_dotdot_from_a_subdirectory_stays_inside(repo):
    (repo.path / "src" / "deep").mkdir(parents=True)
    repo.ok("lock", "../top.py", agent="a", cwd=repo.path / "src" / "deep")
    assert lock_paths(repo, agent="a") == ["src/top.py"]


def test_absolute_path_inside_repo(repo):
    (repo.path / "src").mkdir()
    repo.ok("lock", str(repo.path / "src" / "bar.py"), agent="a", cwd=repo.path / "src")
    assert lock_paths(repo, agent="a") == ["src/bar.py"]


@pytest.mark.parametrize("raw", ["../../etc/passwd", "/etc/passwd", ".."])
def test_path_outside_repository_is_refused(repo, raw):
    result = repo.run("lock", raw, agent="a")
    assert result.code == 2, result
    assert "outside the repository" in result.err
    assert lock_paths(repo, agent="a") == []


def test_symlink_leading_outside_is_refused(repo, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    (repo.path / "escape.txt").symlink_to(outside)
    (repo.path / "escape_dir").symlink_to(tmp_path)
    for raw in ("escape.txt", "escape_dir/outside.txt"):
        result = repo.run("lock", raw, agent="a")
        assert result.code == 2, (raw, result)
        assert "outside the repository" in result.err
    assert lock_paths(repo, agent="a") == []


def test_symlink_inside_repo_locks_its_target(repo):
    (repo.path / "lib").mkdir()
    (repo.path / "lib" / "real.py").write_text("x = 1\n")
    (repo.path / "alias.py").symlink_to(repo.path / "lib" / "real.py")
    repo.ok("lock", "alias.py", agent="a")
    assert lock_paths(repo, agent="a") == ["lib/real.py"]
    # the target is therefore held against the alias and the real name alike
    assert repo.run("lock", "lib/real.py", agent="b").code == 3


# ---------------------------------------------------------------------------
# Where the database lives


def test_stray_claude_dir_in_subdirectory_does_not_move_the_db(repo):
    sub = repo.path / "sub"
    (sub / ".claude" / "coordination").mkdir(parents=True)
    repo.ok("lock", "x.py", agent="a", cwd=sub)
    assert repo.db.exists()
    assert not (sub / ".claude" / "coordination" / "state.sqlite").exists()
    doc = repo.json("whoami", agent="a", cwd=sub)
    assert doc["root"] == os.path.realpath(repo.path)
    assert lock_paths(repo, agent="a") == ["sub/x.py"]


def test_claude_dir_in_home_does_not_move_the_db(repo, tmp_path):
    # HOME is an ancestor of the repository and has its own .claude/
    (tmp_path / ".claude" / "coordination").mkdir(parents=True)
    (repo.path / "sub").mkdir()
    env = {"HOME": str(tmp_path)}
    repo.ok("init", agent="a", cwd=repo.path / "sub", env=env)
    assert repo.db.exists()
    assert not (tmp_path / ".claude" / "coordination" / "state.sqlite").exists()

    plain = tmp_path / "plain"  # under HOME, not in any repository
    plain.mkdir()
    repo.ok("init", agent="a", cwd=plain, env=env)
    assert (plain / ".claude" / "coordination" / "state.sqlite").exists()
    assert not (tmp_path / ".claude" / "coordination" / "state.sqlite").exists()


def test_agent_sync_root_overrides(repo, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    env = {"AGENT_SYNC_ROOT": str(other)}
    repo.ok("init", agent="a", env=env)
    assert (other / ".claude" / "coordination" / "state.sqlite").exists()
    assert not repo.db.exists()
    assert repo.json("whoami", agent="a", env=env)["root"] == os.path.realpath(other)


def test_outside_any_git_repository_cwd_is_the_root(repo, tmp_path):
    plain = tmp_path / "plain" / "deep"
    plain.mkdir(parents=True)
    repo.ok("init", agent="a", cwd=plain)
    assert (plain / ".claude" / "coordination" / "state.sqlite").exists()
    assert repo.json("whoami", agent="a", cwd=plain)["root"] == os.path.realpath(plain)


@pytest.fixture
def worktree(repo, tmp_path):
    git = ["git", "-C", str(repo.path), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    env = clean_env(repo.home)
    subprocess.run(git + ["commit", "-q", "--allow-empty", "-m", "init"], check=True, env=env)
    path = tmp_path / "wt"
    subprocess.run(git + ["worktree", "add", "-q", str(path)], check=True, env=env, capture_output=True)
    (path / "src").mkdir()
    return path


def test_linked_worktree_shares_the_main_database(repo, worktree):
    repo.ok("lock", "--resource", "db-migrations", agent="a", cwd=worktree)
    assert repo.db.exists()
    assert not (worktree / ".claude" / "coordination" / "state.sqlite").exists()
    assert repo.json("whoami", agent="a", cwd=worktree)["root"] == os.path.realpath(repo.path)
    assert lock_paths(repo, agent="b") == ["db-migrations"]


def test_file_lock_in_linked_worktree_is_visible_from_main(repo, worktree):
    # A file of the worktree is named relative to the worktree's top, so it
    # means the same file as in the main worktree.
    result = repo.run("lock", "src/shared.py", agent="a", cwd=worktree)
    assert result.code == 0, f"locking a worktree file failed: {result}"
    assert lock_paths(repo, agent="b") == ["src/shared.py"]
    assert repo.run("lock", "src/shared.py", agent="b").code == 3


# ---------------------------------------------------------------------------
# Identity


def test_identity_from_env(repo):
    doc = repo.json("whoami", agent="alpha")
    assert (doc["id"], doc["source"]) == ("alpha", "env")
    assert doc["agent"]["id"] == "alpha"


def test_env_wins_over_session(repo):
    doc = repo.json("whoami", agent="alpha", env={"CLAUDE_CODE_SESSION_ID": "sess-1"})
    assert (doc["id"], doc["source"]) == ("alpha", "env")


def test_identity_from_session(repo):
    one = repo.json("whoami", env={"CLAUDE_CODE_SESSION_ID": "sess-1"})
    again = repo.json("whoami", env={"CLAUDE_CODE_SESSION_ID": "sess-1"})
    other = repo.json("whoami", env={"CLAUDE_CODE_SESSION_ID": "sess-2"})
    assert one["source"] == again["source"] == other["source"] == "session"
    assert one["session"] == "sess-1"
    assert one["id"] == again["id"]
    assert one["id"] != other["id"]
    assert one["agent"]["name"] != other["agent"]["name"]
    ids = {a["id"] for a in repo.json("agents", env={"CLAUDE_CODE_SESSION_ID": "sess-1"})["agents"]}
    assert ids == {one["id"], other["id"]}


def test_identity_local_is_stable(repo):
    first = repo.json("whoami")
    second = repo.json("whoami", cwd=repo.path)
    assert first["source"] == second["source"] == "local"
    assert first["id"] == second["id"]
    (repo.path / "sub").mkdir()
    assert repo.json("whoami", cwd=repo.path / "sub")["id"] == first["id"]


def test_concurrent_first_runs_agree_on_local_id(repo):
    env = clean_env(repo.home)
    procs = [subprocess.Popen([sys.executable, str(PYZ), "whoami", "--json"], cwd=str(repo.path), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(8)]
    results = [(*p.communicate(timeout=60),) for p in procs]
    results = [(p.returncode, out, err) for p, (out, err) in zip(procs, results)]
    for code, out, err in results:
        assert code == 0, err.decode()
        assert b"Traceback" not in err
    docs = [json.loads(out) for _, out, _ in results]
    assert {d["source"] for d in docs} == {"local"}
    ids = {d["id"] for d in docs}
    assert len(ids) == 1, ids
    assert [a["id"] for a in repo.json("agents")["agents"]] == list(ids)


@pytest.mark.parametrize("agent_id", ["operator", "Operator", "OPERATOR"])
def test_operator_id_is_reserved(repo, agent_id):
    for argv in (["locks"], ["lock", "x.py"], ["whoami"]):
        result = repo.run(*argv, agent=agent_id)
        assert result.code == 2, (argv, result)
        assert "Traceback" not in result.err


def test_operator_name_is_reserved(repo):
    assert repo.run("register", "--name", "operator", agent="a").code == 2


@pytest.mark.parametrize("agent_id", ["has space", "x" * 100, "a/b", "tab\there", "ünï"],
                         ids=["space", "100-chars", "slash", "tab", "non-ascii"])
def test_invalid_agent_id_is_refused(repo, agent_id):
    result = repo.run("whoami", agent=agent_id)
    assert result.code == 2, result
    assert len(result.err.strip().splitlines()) == 1
    assert {a["id"] for a in repo.json("agents", agent="ok")["agents"]} == {"ok"}
