"""Refusals the pre-tool hook's quick path spools (core/spool.py) reach the activity feed exactly once.

The race: real hook processes refuse edits while other processes write (each commit moves what it
finds into the feed) and read the feed (which moves it first). At the end every refusal is in the
feed once: none lost, none doubled, and the spool is empty. Then the spool's own rules, in process:
files it did not write are dropped without an entry, a half-written file is left alone until stale.
"""

import json
import os
import sqlite3
import subprocess
import sys
import time

import conftest
from conftest import clean_env
from environment import HOOK_LAUNCH
from test_hooks_contract import ALICE, BOB, Session, payload

sys.path.insert(0, str(conftest.ROOT))
from agent_sync.core import db as dbmod  # noqa: E402
from agent_sync.core import journal, spool  # noqa: E402

REFUSERS, REFUSALS_EACH = 6, 5
WRITERS, WRITES_EACH = 3, 5


def _blocked_in_feed(repo):
    with sqlite3.connect(repo.db) as conn:
        return conn.execute("SELECT agent, message, path FROM activity WHERE type = 'blocked'").fetchall()


def test_concurrent_refusals_writers_and_readers_put_each_refusal_in_the_feed_once(repo, tmp_path):
    alice, bob = Session(repo, ALICE, "alice"), Session(repo, BOB, "bob")
    bob.ok("lock", "src/locked.py")
    go = tmp_path / "go"
    data = json.dumps(payload("pre_tool_use_edit", repo, tool_input={"file_path": str(repo.path / "src/locked.py")},
                              session_id=alice.session_id))
    hook = (f"import subprocess, sys, os, time\n"
            f"while not os.path.exists({str(go)!r}): time.sleep(0.002)\n"
            f"for _ in range({REFUSALS_EACH}):\n"
            f"    p = subprocess.run([sys.executable, '-I', '-S', '-c', {HOOK_LAUNCH!r}, {str(conftest.PYZ)!r},"
            f" 'pre-tool-use'], input={data!r}.encode(), capture_output=True)\n"
            f"    assert p.returncode == 0 and b'deny' in p.stdout, p\n")
    cli = (f"import subprocess, sys, os, time\n"
           f"while not os.path.exists({str(go)!r}): time.sleep(0.002)\n"
           f"for i in range({WRITES_EACH}):\n"
           f"    for args in (['log', '--type', 'note', '--message', 'writing %d' % i], ['status', '--json']):\n"
           f"        p = subprocess.run([sys.executable, {str(conftest.PYZ)!r}, *args], capture_output=True)\n"
           f"        assert p.returncode == 0, p\n")
    env = clean_env(repo.home, CLAUDE_CODE_SESSION_ID=BOB)
    procs = [subprocess.Popen([sys.executable, "-c", hook], cwd=repo.path, env=clean_env(repo.home))
             for _ in range(REFUSERS)]
    procs += [subprocess.Popen([sys.executable, "-c", cli], cwd=repo.path, env=env) for _ in range(WRITERS)]
    time.sleep(0.5)
    go.touch()
    assert [p.wait(timeout=300) for p in procs] == [0] * len(procs)
    bob.ok("status")  # the last spooled ones move in as the feed is read
    feed = _blocked_in_feed(repo)
    assert len(feed) == REFUSERS * REFUSALS_EACH
    assert set(feed) == {(alice.id, f"Edit src/locked.py refused: locked by bob [{bob.id}]", "src/locked.py")}
    assert os.listdir(repo.path / ".claude" / "coordination" / spool.DIR) == []


def test_the_drain_drops_what_it_did_not_write_and_waits_for_half_written_files(repo):
    Session(repo, BOB, "bob")  # creates the database
    state = str(repo.path / ".claude" / "coordination")
    spool.add(state, "s-aaaaaaaaaaaa", [("a.py", "Edit a.py refused: locked by x [s-x]")], 1000.0)
    folder = repo.path / ".claude" / "coordination" / spool.DIR
    (folder / "not-json.json").write_text("{ nope")
    (folder / "wrong-shape.json").write_text(json.dumps({"agent": 3, "at": "x", "entries": []}))
    (folder / "huge.json").write_text(json.dumps({"agent": "s", "at": 1, "entries": [["p", "m" * spool.MAX_FILE]]}))
    fresh, stale = folder / ".fresh.json", folder / ".stale.json"
    fresh.write_text("{")
    stale.write_text("{")
    old = time.time() - spool.STALE_PART - 5
    os.utime(stale, (old, old))
    assert spool.pending(state)
    db = dbmod.Database(str(repo.path), 5.0)
    try:
        with db.write():
            pass  # the commit drains
    finally:
        db.close()
    assert sorted(p.name for p in folder.iterdir()) == [".fresh.json"]
    assert not spool.pending(state)
    with sqlite3.connect(repo.db) as conn:
        rows = conn.execute("SELECT agent, type, message, path, created_at FROM activity WHERE type = 'blocked'").fetchall()
    assert rows == [("s-aaaaaaaaaaaa", "blocked", "Edit a.py refused: locked by x [s-x]", "a.py", 1000.0)]


def test_a_rolled_back_transaction_spools_them_again_and_they_come_before_its_own_entries(repo):
    Session(repo, BOB, "bob")
    state = str(repo.path / ".claude" / "coordination")
    spool.add(state, "s-aaaaaaaaaaaa", [("a.py", "refused first")], 1000.0)
    spool.add(state, "s-aaaaaaaaaaaa", [("b.py", "refused second")], 1001.0)
    db = dbmod.Database(str(repo.path), 5.0)
    try:
        try:
            with db.write():
                raise RuntimeError("the command failed")  # a conflict, say: the transaction rolls back
        except RuntimeError:
            pass
        assert spool.pending(state) and _blocked_in_feed(repo) == []  # back in the spool, not in the feed
        with db.write():
            journal.insert(db, "s-bbbbbbbbbbbb", "note", "the command's own entry", None, 2000.0)
    finally:
        db.close()
    assert not spool.pending(state)
    with sqlite3.connect(repo.db) as conn:
        rows = conn.execute("SELECT message FROM activity WHERE created_at < 3000 ORDER BY id").fetchall()
    assert rows == [("refused first",), ("refused second",), ("the command's own entry",)]


def test_a_folder_or_an_odd_time_in_the_spool_never_counts_and_a_failed_insert_never_fails_the_write(repo, monkeypatch):
    Session(repo, BOB, "bob")
    state = str(repo.path / ".claude" / "coordination")
    folder = repo.path / ".claude" / "coordination" / spool.DIR
    folder.mkdir()
    (folder / "x.json").mkdir()  # not a file we wrote: no write or read is spent on it
    assert not spool.pending(state)
    (folder / "nan.json").write_text('{"agent": "s", "at": NaN, "entries": [["p", "m"]]}')
    spool.add(state, "s-aaaaaaaaaaaa", [("a.py", "refused")], 1000.0)
    assert spool.pending(state)

    def broken(*_args):
        raise dbmod.StorageError("disk I/O error")

    monkeypatch.setattr(journal, "insert", broken)
    db = dbmod.Database(str(repo.path), 5.0)
    try:
        with db.write():
            db.execute("UPDATE agents SET role = 'still written' WHERE name = 'bob'")
        assert spool.pending(state)  # given back, for the next writer
        monkeypatch.undo()
        with db.write():
            pass
    finally:
        db.close()
    assert not spool.pending(state)
    with sqlite3.connect(repo.db) as conn:
        assert conn.execute("SELECT role FROM agents WHERE name = 'bob'").fetchone() == ("still written",)
    assert [row[1] for row in _blocked_in_feed(repo)] == ["refused"]  # NaN's file dropped, without an entry
