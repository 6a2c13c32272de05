"""The pre-tool hook's quick answers for an edit never differ from the full path's.

Black-box: the installed hook command runs with a probe that reports which path answered and whether `os`
was imported. An unlocked plain file is allowed by the lock index alone (quickstamp.edit_check); a plain file
the index says may be locked is decided by the database read directly (core/refusal.py), still without `os`,
and the refusal reaches the activity feed through the spool; a symbolic link, `..`, a nested worktree, a
directory, a glob character, a backend setting, a missing index, another schema version or a clock to
settle goes to the store, which decides as before. Then a property test compares the quick answer with the
full path's index check on random trees, locks and paths: whenever the quick answer allows, the full path
finds nothing to check either.
"""

import json
import os
import re
import sqlite3
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import conftest
from conftest import clean_env
from test_hooks_contract import ALICE, ANSWER_PROBE, BOB, Session, payload

sys.path.insert(0, str(conftest.ROOT))
from agent_sync.core import indexfile, lockspec, quickstamp  # noqa: E402
from agent_sync.hooks import handlers, model  # noqa: E402


@pytest.fixture
def team(repo):
    for rel in ("src/free.py", "src/locked.py", "src/mine.py", "lib/held.py", "docs/a*b.md"):
        (repo.path / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo.path / rel).write_text("x\n")
    alice, bob = Session(repo, ALICE, "alice"), Session(repo, BOB, "bob")
    bob.ok("lock", "src/locked.py", *[f"gen/f{i:02d}.py" for i in range(50)])
    bob.ok("lock", "lib/")
    bob.ok("lock", "docs/*.txt")
    alice.ok("lock", "src/mine.py")
    return repo, alice, bob


def edit(repo, session, path, cwd=None, env=None):
    """(denied, which path answered) for an Edit of `path` by `session`, through the installed hook command;
    only the store may have imported `os`."""
    data = payload("pre_tool_use_edit", repo, tool_input={"file_path": str(path)}, session_id=session.session_id,
                   cwd=str(cwd or repo.path))
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", ANSWER_PROBE, str(conftest.PYZ), "pre-tool-use"],
                          input=json.dumps(data).encode(), capture_output=True, cwd=repo.path,
                          env=clean_env(repo.home, **(env or {})), timeout=60)
    assert proc.returncode == 0, proc
    out, err = proc.stdout.decode(), proc.stderr.decode()
    denied = bool(out) and json.loads(out)["hookSpecificOutput"]["permissionDecision"] == "deny"
    answered = err.rsplit("answered by ", 1)[-1]
    assert answered in ("index; os loaded: False", "database; os loaded: False", "store; os loaded: True"), err
    return denied, answered.split(";")[0]


def test_the_index_allows_a_free_file_and_the_database_refuses_a_locked_one_neither_with_os(team):
    repo, alice, _ = team
    assert edit(repo, alice, repo.path / "src" / "free.py") == (False, "index")
    assert edit(repo, alice, repo.path / "src" / "new-file.py") == (False, "index")  # not there yet
    assert edit(repo, alice, repo.path / "src" / "mine.py") == (False, "index")  # her own lock
    assert edit(repo, alice, "free.py", cwd=repo.path / "src") == (False, "index")  # relative to the cwd
    assert edit(repo, alice, repo.path / "src" / "locked.py") == (True, "database")
    assert edit(repo, alice, "locked.py", cwd=repo.path / "src") == (True, "database")
    assert edit(repo, alice, repo.path / "lib" / "held.py") == (True, "database")  # a directory lock
    assert edit(repo, alice, repo.path / "docs" / "x.txt") == (True, "database")  # a pattern lock
    assert edit(repo, alice, repo.path / "docs" / "x.md") == (False, "index")  # outside the pattern


def test_links_dot_dot_and_odd_names_take_the_full_path(team):
    repo, alice, _ = team
    (repo.path / "alias.py").symlink_to("src/locked.py")
    (repo.path / "srcdir").symlink_to("src")
    (repo.path / "free-link.py").symlink_to("src/free.py")
    assert edit(repo, alice, repo.path / "alias.py") == (True, "store")
    assert edit(repo, alice, repo.path / "srcdir" / "locked.py") == (True, "store")
    assert edit(repo, alice, repo.path / "src" / ".." / "src" / "locked.py") == (True, "store")
    assert edit(repo, alice, f"{repo.path}//src/locked.py") == (True, "store")
    assert edit(repo, alice, repo.path / "free-link.py") == (False, "store")  # allowed, by the full path
    assert edit(repo, alice, repo.path / "docs" / "a*b.md") == (False, "store")  # a glob character
    assert edit(repo, alice, repo.path / "src") == (True, "store")  # a directory as the target: it holds a lock


def test_a_nested_worktree_takes_the_full_path(team):
    repo, alice, bob = team
    subprocess.run(["git", "-C", str(repo.path), "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q",
                    "--allow-empty", "-m", "init"], check=True)
    subprocess.run(["git", "-C", str(repo.path), "worktree", "add", "-q", "nested"], check=True, capture_output=True)
    # nested/src/locked.py is src/locked.py of the same repository: bob's lock covers it there too
    assert edit(repo, alice, repo.path / "nested" / "src" / "locked.py") == (True, "store")
    assert edit(repo, alice, repo.path / "nested" / "src" / "free.py") == (False, "store")


def test_settings_and_a_missing_index_take_the_full_path(team):
    repo, alice, _ = team
    assert edit(repo, alice, repo.path / "src" / "free.py", env={"AGENT_SYNC_BACKEND": "sqlite"}) == (False, "store")
    assert edit(repo, alice, repo.path / "src" / "locked.py", env={"AGENT_SYNC_BACKEND": "sqlite"}) == (True, "store")
    index = repo.path / ".claude" / "coordination" / indexfile.NAME
    index.unlink()
    assert edit(repo, alice, repo.path / "src" / "free.py") == (False, "store")
    assert edit(repo, alice, repo.path / "src" / "locked.py") == (True, "store")


def test_an_expired_lock_no_longer_sends_edits_to_the_full_path(team):
    repo, alice, bob = team
    bob.ok("lock", "src/free.py", "--ttl", "1s")
    assert edit(repo, alice, repo.path / "src" / "free.py") == (True, "database")
    time.sleep(1.2)
    assert edit(repo, alice, repo.path / "src" / "free.py") == (False, "index")


def test_another_agents_lease_is_refused(team):
    repo, alice, bob = team
    bob.hook("post-tool-use", "post_tool_use_edit", tool_input={"file_path": str(repo.path / "src" / "free.py")})
    assert edit(repo, alice, repo.path / "src" / "free.py") == (True, "database")
    # With leases off for her, she does not see them, exactly as the store would not
    assert edit(repo, alice, repo.path / "src" / "free.py", env={"AGENT_SYNC_AUTO_LEASE": "off"}) == (False, "database")


def _refusal(repo, session, path, env=None):
    """The refusal text the installed hook gives for an Edit of `path` (None when it allows it)."""
    data = payload("pre_tool_use_edit", repo, tool_input={"file_path": str(path)}, session_id=session.session_id)
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", ANSWER_PROBE, str(conftest.PYZ), "pre-tool-use"],
                          input=json.dumps(data).encode(), capture_output=True, cwd=repo.path,
                          env=clean_env(repo.home, **(env or {})), timeout=60)
    out = proc.stdout.decode()
    return json.loads(out)["hookSpecificOutput"]["permissionDecisionReason"] if out else None


def test_the_database_refusal_reads_as_the_stores_and_reaches_the_feed_once(team):
    repo, alice, bob = team
    spool = repo.path / ".claude" / "coordination" / "refusals"
    quick = _refusal(repo, alice, repo.path / "src" / "locked.py")
    assert len(list(spool.iterdir())) == 1  # the quick refusal waits there
    full = _refusal(repo, alice, repo.path / "src" / "locked.py", env={"AGENT_SYNC_BACKEND": "sqlite"})
    assert quick and "locked by bob" in quick and f"send --to {bob.id}" in quick
    assert re.sub(r"\d+", "N", quick) == re.sub(r"\d+", "N", full)  # the same words; times may tick over
    assert list(spool.iterdir()) == []  # the store's own refusal log, a write, moved it into the feed
    _refusal(repo, alice, repo.path / "src" / "locked.py")
    assert len(list(spool.iterdir())) == 1
    feed = [a for a in bob.json("status")["activity"] if a["type"] == "blocked"]
    assert [a["message"] for a in feed] == [f"Edit src/locked.py refused: locked by bob [{bob.id}]"] * 3
    assert {a["agent"] for a in feed} == {alice.id}
    assert list(spool.iterdir()) == []  # moved into the feed by the status that read it
    assert len([a for a in bob.json("status")["activity"] if a["type"] == "blocked"]) == 3  # and only once


def test_a_lock_the_index_still_lists_but_the_database_dropped_is_allowed(team):
    repo, alice, bob = team
    index = repo.path / ".claude" / "coordination" / indexfile.NAME
    # What a crash between an unlock's commit and its index rewrite leaves: the index is a superset
    stale = indexfile.line(time.time() + 3600, lockspec.FILE, "exclusive", bob.id, "src/free.py")
    index.write_text(index.read_text() + stale + "\n")
    assert edit(repo, alice, repo.path / "src" / "free.py") == (False, "database")


def test_an_agent_gone_stale_holds_nothing_for_the_database_either(team):
    repo, alice, bob = team
    time.sleep(1.2)
    assert edit(repo, alice, repo.path / "src" / "locked.py", env={"AGENT_SYNC_STALE_AFTER": "1s"}) == (
        False, "database")
    assert edit(repo, alice, repo.path / "src" / "locked.py") == (True, "database")


def test_a_database_of_another_version_or_with_future_times_goes_to_the_store(team):
    repo, alice, bob = team
    with sqlite3.connect(repo.db) as conn:
        conn.execute("UPDATE agents SET last_seen = last_seen + 7200 WHERE id = ?", (bob.id,))
    # The store settles the clock (bob then holds again: seen now), and refuses
    assert edit(repo, alice, repo.path / "src" / "locked.py") == (True, "store")
    assert edit(repo, alice, repo.path / "src" / "locked.py") == (True, "database")
    with sqlite3.connect(repo.db) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {version + 1}")
    # A newer agent-sync's database: the store says so and fails open; the quick path never guesses
    assert edit(repo, alice, repo.path / "src" / "locked.py") == (False, "store")


# ---- the quick answer against the full path's index check, on random trees ---------------------------

SEGMENT = st.sampled_from(["a", "b", "src", "x.py", "y.txt", "..", ".", "", "l", "d*", "wt"])
ME, OTHER = "s-aaaaaaaaaaaa", "s-bbbbbbbbbbbb"


@st.composite
def cases(draw):
    tree = draw(st.lists(st.tuples(st.sampled_from(["file", "dir", "link", "git"]),
                                   st.lists(st.sampled_from(["a", "b", "src", "x.py", "l", "wt"]), min_size=1,
                                            max_size=3),
                                   st.lists(st.sampled_from(["a", "b", "src", "x.py", ".."]), min_size=1, max_size=3)),
                         max_size=8))
    locks = draw(st.lists(st.tuples(st.sampled_from([ME, OTHER]),
                                    st.sampled_from([lockspec.FILE, lockspec.DIR, lockspec.GLOB]),
                                    st.lists(st.sampled_from(["a", "b", "src", "x.py", "l", "wt", "*"]), min_size=1,
                                             max_size=3)), max_size=5))
    paths = draw(st.lists(st.lists(SEGMENT, min_size=1, max_size=4), min_size=1, max_size=3))
    absolute = draw(st.booleans())
    cwd = draw(st.sampled_from(["", "src", "a"]))
    return tree, locks, paths, absolute, cwd


def _build(root, tree):
    for kind, parts, target in tree:
        path = root.joinpath(*parts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "file":
                path.write_text("x")
            elif kind == "dir":
                path.mkdir(exist_ok=True)
            elif kind == "link":
                path.symlink_to(os.path.join(*target))
            else:  # a linked worktree of this repository, as `git worktree add` leaves it
                path.mkdir(exist_ok=True)
                gitdir = root / ".git" / "worktrees" / "-".join(parts)
                gitdir.mkdir(parents=True, exist_ok=True)
                (gitdir / "commondir").write_text("../..\n")
                (path / ".git").write_text(f"gitdir: {gitdir}\n")
        except OSError:
            pass  # a part of the way is a file or a link: that shape simply does not exist


def _write_index(state, locks, now):
    lines = {indexfile.line(now + 600, kind, "exclusive", owner,
                            "/".join(parts) + ("/" if kind == lockspec.DIR else ""))
             for owner, kind, parts in locks}
    (state / indexfile.NAME).write_text("\n".join([indexfile.HEADER, "ci\t0", *sorted(lines)]) + "\n")


@settings(max_examples=int(os.environ.get("AGENT_SYNC_QUICK_EDIT_CASES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
@example(case=([("file", ["src", "x.py"], ["a"]), ("link", ["l"], ["src"])],  # l/x.py is src/x.py
               [(OTHER, lockspec.FILE, ["src", "x.py"])], [["l", "x.py"]], False, ""))
@example(case=([("git", ["wt"], ["a"]), ("file", ["wt", "x.py"], ["a"])],  # wt/x.py is x.py of worktree wt
               [(OTHER, lockspec.FILE, ["x.py"])], [["wt", "x.py"]], False, ""))
@example(case=([("dir", ["src"], ["a"])], [(OTHER, lockspec.FILE, ["src", "x.py"])], [["a", "..", "src", "x.py"]],
               True, ""))
def test_the_quick_answer_allows_only_what_the_index_check_allows(tmp_path_factory, monkeypatch, case):
    tree, locks, paths, absolute, cwd_rel = case
    root = tmp_path_factory.mktemp("quick")
    (root / ".git").mkdir()
    state = root / ".claude" / "coordination"
    state.mkdir(parents=True)
    _build(root, tree)
    now = time.time()
    _write_index(state, locks, now)
    monkeypatch.setenv("AGENT_SYNC_ID", ME)
    for name in ("AGENT_SYNC_ROOT", "AGENT_SYNC_BACKEND", "AGENT_SYNC_PUSH"):
        monkeypatch.delenv(name, raising=False)
    cwd = root / cwd_rel if cwd_rel and (root / cwd_rel).is_dir() and not (root / cwd_rel).is_symlink() else root
    raws = [("/".join([str(cwd), *p]) if absolute else "/".join(p)) for p in paths]
    quick = quickstamp.edit_allowed(str(cwd), "session", raws, now)
    assert quick in (True, None)
    if quick:
        event = model.Event(model.PRE_TOOL, session_id="session", cwd=str(cwd), tool=model.EDIT, paths=raws)
        where = handlers.Where(event)
        assert where.me.id == ME
        assert not handlers._index_may_block(where, raws), (tree, locks, raws)
