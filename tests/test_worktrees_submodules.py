"""Linked worktrees and submodules share the repository's one database (issue 12).

- Linked worktrees: one lock namespace. `src/app.py` is the same key in every worktree,
  so a lock holds for that file in each of them, and a file of another worktree given by
  absolute path maps to its path inside that worktree.
- Submodules: a submodule's files belong to the superproject. A session inside one uses
  the superproject's database, and paths are relative to the superproject's root.
"""

import json
import subprocess

import pytest
from conftest import clean_env
from test_hooks_contract import ALICE, BOB, Session, payload


def git(repo, *args, cwd=None):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "protocol.file.allow=always",
                    *args], cwd=cwd or repo.path, env=clean_env(repo.home), check=True, capture_output=True)


def commit_all(repo, cwd=None, message="c"):
    git(repo, "add", "-A", cwd=cwd)
    git(repo, "commit", "-q", "-m", message, cwd=cwd)


def edit(repo, session, file_path, cwd):
    data = payload("pre_tool_use_edit", repo, session_id=session.session_id,
                   tool_input={"file_path": str(file_path), "old_string": "x", "new_string": "y"})
    data["cwd"] = str(cwd)
    return repo.hook("pre-tool-use", data, cwd=cwd)


@pytest.fixture
def worktrees(repo, tmp_path):
    (repo.path / "src").mkdir()
    (repo.path / "src" / "app.py").write_text("x = 1\n")
    (repo.path / "src" / "other.py").write_text("x = 2\n")
    commit_all(repo)
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked), "-b", "feature")
    nested = repo.path / ".worktrees" / "nested"
    git(repo, "worktree", "add", "-q", str(nested), "-b", "nested")
    return repo, linked, nested


def test_a_lock_in_the_main_worktree_holds_for_its_file_edited_from_a_linked_one(worktrees):
    repo, linked, nested = worktrees
    alice = Session(repo, ALICE, "alice")
    bob = Session(repo, BOB, "bob")
    alice.ok("lock", "src/app.py", "--reason", "main work")
    # bob works in the linked worktree and edits the main worktree's file by absolute path
    result = edit(repo, bob, repo.path / "src" / "app.py", cwd=linked)
    assert result.code == 2 and "src/app.py is locked by alice" in result.err, result
    # the same repo-relative file in his own worktree is the same key
    assert edit(repo, bob, linked / "src" / "app.py", cwd=linked).code == 2
    assert edit(repo, bob, "src/app.py", cwd=linked).code == 2
    assert edit(repo, bob, linked / "src" / "other.py", cwd=linked).code == 0


def test_a_lock_taken_in_a_linked_worktree_holds_in_the_main_one(worktrees):
    repo, linked, nested = worktrees
    alice = Session(repo, ALICE, "alice")
    bob = Session(repo, BOB, "bob")
    alice.ok("lock", "src/app.py", cwd=linked)
    assert edit(repo, bob, repo.path / "src" / "app.py", cwd=repo.path).code == 2
    # bob, in the main worktree, edits the linked worktree's copy by absolute path
    assert edit(repo, bob, linked / "src" / "app.py", cwd=repo.path).code == 2


def test_a_worktree_nested_inside_the_main_one_maps_to_its_own_paths(worktrees):
    repo, linked, nested = worktrees
    alice = Session(repo, ALICE, "alice")
    bob = Session(repo, BOB, "bob")
    alice.ok("lock", "src/app.py")
    result = edit(repo, bob, nested / "src" / "app.py", cwd=repo.path)
    assert result.code == 2 and "src/app.py is locked" in result.err, result
    # and a lock given by absolute path in another worktree names the repo-relative file
    (lock,) = alice.json("locks")["locks"]
    alice.ok("lock", str(linked / "src" / "other.py"))
    paths = sorted(lk["path"] for lk in alice.json("locks")["locks"])
    assert paths == ["src/app.py", "src/other.py"] and lock["path"] == "src/app.py"


def test_every_worktree_uses_the_one_database(worktrees):
    repo, linked, nested = worktrees
    roots = {Session(repo, ALICE).json("whoami", cwd=where)["root"] for where in (repo.path, linked, nested)}
    assert roots == {str(repo.path)}


@pytest.fixture
def submodule(repo, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    subprocess.run(["git", "init", "-q", str(lib)], check=True, env=clean_env(repo.home))
    (lib / "core.py").write_text("x = 1\n")
    git(repo, "add", "-A", cwd=lib)
    git(repo, "commit", "-q", "-m", "lib", cwd=lib)
    (repo.path / "README").write_text("super\n")
    commit_all(repo)
    git(repo, "submodule", "add", "-q", str(lib), "vendor/lib")
    commit_all(repo, message="add submodule")
    inner = repo.path / "vendor" / "lib"
    assert (inner / ".git").is_file()
    return repo, inner


def test_a_session_inside_a_submodule_uses_the_superprojects_database(submodule):
    repo, inner = submodule
    alice = Session(repo, ALICE, "alice")
    doc = alice.json("whoami", cwd=inner)
    assert doc["root"] == str(repo.path), doc
    assert not (inner / ".claude").exists()


def test_the_superprojects_lock_on_a_submodule_file_holds_inside_it(submodule):
    repo, inner = submodule
    alice = Session(repo, ALICE, "alice")
    bob = Session(repo, BOB, "bob")
    alice.ok("lock", "vendor/lib/core.py", "--reason", "bumping the lib")
    result = edit(repo, bob, "core.py", cwd=inner)  # relative, from inside the submodule
    assert result.code == 2 and "vendor/lib/core.py is locked by alice" in result.err, result
    assert edit(repo, bob, inner / "core.py", cwd=inner).code == 2
    # a lock taken inside the submodule is named from the superproject's root
    bob.ok("lock", "new.py", cwd=inner)
    assert "vendor/lib/new.py" in [lk["path"] for lk in alice.json("locks")["locks"]]
    assert not (inner / ".claude").exists()


def test_a_nested_plain_repository_keeps_its_own_database(repo):
    """Not a submodule (its own .git directory, not a gitlink): it is another repository."""
    (repo.path / "README").write_text("x\n")
    inner = repo.path / "third_party" / "tool"
    inner.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(inner)], check=True, env=clean_env(repo.home))
    assert json.loads(repo.ok("whoami", "--json", cwd=inner, agent="x").out)["root"] == str(inner)
