"""A large database answers correctly, and history stays bounded. Figures are printed, never asserted:
bench/scale.py measures large against small side by side."""

import json
import os
import re
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import PYZ, ROOT, clean_env

sys.path.insert(0, str(ROOT))
from agent_sync.core import gc, repo
import scale_scenarios as scale

SIZES = {"agents": 50, "tasks": 2_000, "activity": 20_000, "messages": 10_000, "locks": 300}
ME = scale.ME


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    base = tmp_path_factory.mktemp("scale")
    root = scale.make_repo(base, "big")
    home = base / "home"
    home.mkdir()
    start = time.monotonic()
    scale.populate(root, **SIZES)
    print(f"populated {SIZES} in {time.monotonic() - start:.1f}s")
    return root, home


def run(big, *argv, hook=None, payload=None, env=None):
    root, home = big
    command = [sys.executable, "-I", "-S", "-c", scale.hookcommand.LAUNCH, str(PYZ), hook] if hook else \
        [sys.executable, str(PYZ), *argv]
    merged = clean_env(home, AGENT_SYNC_ID=ME, AGENT_SYNC_KEEP_ACTIVITY="10000000",
                       AGENT_SYNC_KEEP_MESSAGES="10000000", **(env or {}))
    data = json.dumps(dict({"session_id": "scale", "cwd": str(root)}, **(payload or {}))).encode() if hook else None
    start = time.perf_counter()
    proc = subprocess.run(command, check=False, cwd=str(root), env=merged, input=data, capture_output=True, timeout=120)
    elapsed = time.perf_counter() - start
    assert b"Traceback" not in proc.stderr, proc.stderr
    print(f"  {hook or ' '.join(argv)}: exit {proc.returncode} in {elapsed * 1000:.0f} ms")
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def query(root, sql, params=()):
    conn = sqlite3.connect(repo.db_path(str(root)))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_status_compact_stays_terse(big):
    code, out, _ = run(big, "status", "--compact")
    assert code == 0
    assert out.startswith("[&agent-sync-state trust=untrusted]") and out.rstrip().endswith("[&/agent-sync-state]")
    assert len(out.encode()) < 2048, len(out.encode())  # lists are capped, whatever the history
    assert "more)" in out  # and say how many were left out


def test_claim_next_takes_the_best_claimable_task(big):
    # The oracle: highest priority, then lowest id, among open tasks whose dependencies are all done.
    expected = query(big[0], """SELECT t.id FROM tasks t WHERE t.status = 'open' AND NOT EXISTS (
        SELECT 1 FROM task_deps d JOIN tasks p ON p.id = d.depends_on WHERE d.task_id = t.id AND p.status != 'done')
        ORDER BY t.priority DESC, t.id LIMIT 1""")[0]
    code, out, _ = run(big, "claim-next")
    assert code == 0
    assert re.search(r"claimed #(\d+)", out).group(1) == str(expected[0])
    assert query(big[0], "SELECT owner, status FROM tasks WHERE id = ?", expected) == [(ME, "in_progress")]


def test_locks_lists_every_live_lock(big):
    code, out, _ = run(big, "locks", "--json")
    assert code == 0
    listed = json.loads(out)["locks"]
    live = query(big[0], "SELECT COUNT(*) FROM locks WHERE expires_at > ?", (time.time(),))[0][0]
    assert len(listed) == live == SIZES["locks"]


def test_inbox_delivers_exactly_the_unread(big):
    scale.reset_unread(big[0], ME)
    newest = query(big[0], "SELECT MAX(id) FROM messages")[0][0]
    expected = [mid for (mid,) in query(
        big[0], "SELECT id FROM messages WHERE id > ? AND to_key IN ('all', ?) AND sender != ? ORDER BY id",
        (newest - scale.UNREAD, ME, ME))]
    code, out, _ = run(big, "inbox", "--mark-read", "--json")
    assert code == 0
    assert [m["id"] for m in json.loads(out)["messages"]] == expected
    assert json.loads(run(big, "inbox", "--json")[1])["messages"] == []


def test_pre_tool_use_allows_and_blocks_correctly(big):
    allowed = {"tool_name": "Edit", "tool_input": {"file_path": "src/area7/new.py"}}
    blocked = {"tool_name": "Edit", "tool_input": {"file_path": "src/area1/locked1.py"}}
    in_dir = {"tool_name": "Write", "tool_input": {"file_path": "lib/d19/x/y.py"}}
    in_glob = {"tool_name": "Edit", "tool_input": {"file_path": "gen/g49/a/b/c.py"}}
    assert run(big, hook="pre-tool-use", payload=allowed)[0] == 0
    code, out, _ = run(big, hook="pre-tool-use", payload=blocked)
    (owner,) = query(big[0], "SELECT a.name || ' [' || a.id || ']' FROM locks l JOIN agents a ON a.id = l.owner"
                             " WHERE l.key = 'src/area1/locked1.py'")[0]
    assert code == 0 and f"src/area1/locked1.py is locked by {owner}" in out, out  # the installed form: deny JSON
    assert '"permissionDecision": "deny"' in run(big, hook="pre-tool-use", payload=in_dir)[1]
    assert '"permissionDecision": "deny"' in run(big, hook="pre-tool-use", payload=in_glob)[1]


def test_gc_on_a_large_history_prunes_to_the_caps(tmp_path):
    root = scale.make_repo(tmp_path, "prune")
    scale.populate(root, agents=10, tasks=100, activity=30_000, messages=8_000, locks=20)
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, AGENT_SYNC_ID=ME, AGENT_SYNC_KEEP_ACTIVITY="5000", AGENT_SYNC_KEEP_MESSAGES="1000")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(PYZ), "gc"], check=False, cwd=str(root), env=env,
                          capture_output=True, timeout=120)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    counts = scale.row_counts(root)
    assert counts["activity"] <= 5000 and counts["messages"] <= 1000, counts
    newest = query(root, "SELECT MAX(id) FROM activity")[0][0]
    assert query(root, "SELECT MIN(id) FROM activity")[0][0] > newest - 5000  # the newest are kept
    print(f"gc pruned 30,000 -> {counts['activity']} activity and 8,000 -> {counts['messages']} messages "
          f"in {elapsed * 1000:.0f} ms")


def test_a_busy_stretch_stays_bounded(tmp_path, monkeypatch):
    """Two simulated days of five busy agents with small caps: the tables never outgrow cap + one prune batch."""
    monkeypatch.setenv("AGENT_SYNC_KEEP_ACTIVITY", "1500")
    monkeypatch.setenv("AGENT_SYNC_KEEP_MESSAGES", "200")
    monkeypatch.setenv("AGENT_SYNC_RETENTION", "1d")
    for name in [k for k in os.environ if k.startswith(("CLAUDE_", "AGENT_SYNC_ID"))]:
        monkeypatch.delenv(name)
    root = scale.make_repo(tmp_path, "week")
    sizes = scale.simulate_week(root, days=3, calls_per_hour=150, hours=8, messages_per_hour=30, report=print)
    for day in sizes:
        assert day["activity"] <= 1500 + gc.AUTO_EVERY, day
        assert day["messages"] <= 200 + 30 * 8, day  # messages are pruned on the activity beat and by gc
    assert sizes[-1]["written"] >= 3 * 8 * 150  # the work really happened
    # Retention by age: nothing older than the window survives the last morning's gc.
    oldest = query(root, "SELECT MIN(created_at) FROM activity")[0][0]
    last_morning = max(r[0] for r in query(root, "SELECT created_at FROM activity"))
    assert last_morning - oldest < 2 * 86400
    assert sizes[-1]["bytes"] < 4 * sizes[0]["bytes"] + 1_000_000, sizes
