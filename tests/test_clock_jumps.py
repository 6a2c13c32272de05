"""Times stored while the clock ran ahead (issue 12, "Clock jumps").

There is no clock override for tests, so the rows a fast clock would have written
are written straight into the database: a lock taken "tomorrow", an agent seen
"tomorrow". Once read, each is bounded by what its TTL allows from now.
"""

import sqlite3
import time

import pytest
from test_hooks_contract import ALICE, BOB, Session, payload

DAY = 86400


@pytest.fixture
def team(repo):
    (repo.path / "src").mkdir()
    (repo.path / "src" / "app.py").write_text("x = 1\n")
    return repo, Session(repo, ALICE, "alice", "backend"), Session(repo, BOB, "bob", "frontend")


def sql(repo, statement, params=()):
    conn = sqlite3.connect(repo.db)
    with conn:
        conn.execute(statement, params)
    conn.close()


def as_if_ahead(repo, owner, ahead=DAY):
    """Rewrite `owner`'s lock and presence as a clock `ahead` seconds fast would have stored them."""
    sql(repo, "UPDATE locks SET created_at = created_at + ?, expires_at = expires_at + ? WHERE owner = ?",
        (ahead, ahead, owner))
    sql(repo, "UPDATE agents SET last_seen = last_seen + ? WHERE id = ?", (ahead, owner))


def edit(repo, session):
    data = payload("pre_tool_use_edit", repo, session_id=session.session_id,
                   tool_input={"file_path": str(repo.path / "src" / "app.py"), "old_string": "x", "new_string": "y"})
    return repo.hook("pre-tool-use", data)


def test_a_lock_taken_a_day_ahead_lapses_after_its_ttl(team):
    repo, alice, bob = team
    bob.ok("lock", "src/app.py", "--ttl", "3s")
    as_if_ahead(repo, bob.id)
    assert edit(repo, alice).code == 2  # still held now: it is within its TTL
    (lock,) = alice.json("locks")["locks"]
    assert lock["expires_in"] <= 3, lock
    time.sleep(4)
    result = edit(repo, alice)
    assert result.code == 0, result  # not a day later: its TTL from the moment it was read
    assert alice.json("locks")["locks"] == []


def test_an_agent_seen_a_day_ahead_turns_stale(team):
    repo, alice, bob = team
    bob.ok("lock", "src/app.py")  # an hour's lock, held only while bob is active
    as_if_ahead(repo, bob.id)
    stale = {"AGENT_SYNC_STALE_AFTER": "2s"}
    (agent,) = [a for a in alice.json("agents", env=stale)["agents"] if a["id"] == bob.id]
    assert agent["status"] == "active"
    time.sleep(3)
    (agent,) = [a for a in alice.json("agents", env=stale)["agents"] if a["id"] == bob.id]
    assert agent["status"] == "stale", agent
    assert repo.hook("pre-tool-use", payload("pre_tool_use_edit", repo, session_id=ALICE, tool_input={
        "file_path": str(repo.path / "src" / "app.py"), "old_string": "x", "new_string": "y"}), env=stale).code == 0


def test_future_message_and_activity_times_are_clamped(team):
    repo, alice, bob = team
    bob.ok("send", "--to", "alice", "--message", "from the future")
    sql(repo, "UPDATE messages SET created_at = created_at + ?", (10 * DAY,))
    sql(repo, "UPDATE activity SET created_at = created_at + ?", (10 * DAY,))
    alice.ok("gc")
    conn = sqlite3.connect(repo.db)
    newest = max(conn.execute("SELECT MAX(created_at) FROM messages UNION ALL SELECT MAX(created_at) FROM activity"))
    conn.close()
    assert newest[0] <= time.time() + 1


def test_times_not_today_show_their_date(team):
    repo, alice, bob = team
    bob.ok("lock", "src/app.py", "--ttl", "2d", "--reason", "long job")
    tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 2 * DAY))
    refusal = edit(repo, alice)
    assert refusal.code == 2 and f"({tomorrow} " in refusal.err, refusal.err
    bob.ok("send", "--to", "alice", "--message", "old news")
    sql(repo, "UPDATE messages SET created_at = created_at - ?", (3 * DAY,))
    sql(repo, "UPDATE agents SET last_seen = last_seen - ?, state = 'idle' WHERE id = ?", (DAY, bob.id))
    three_days_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * DAY))
    yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - DAY))
    assert f"#1 {three_days_ago} " in alice.ok("inbox", "--all").out
    assert f"seen {yesterday} " in alice.ok("agents").out
    today_only = alice.ok("status").out
    assert f"(seen {time.strftime('%H:%M', time.gmtime())}" in today_only or "(seen " in today_only
