"""The coordination model through the Store interface, one test body per rule, on both stores.

Every test runs twice: store=sqlite (the repository's file) and store=etcd (an
EtcdStore on a real etcd member, one per test session, a fresh namespace per
test). The black-box CLI tests cover the SQLite store through the archive;
these pin down that the etcd store answers the same way.
"""

import subprocess
import threading
import time

import pytest
from etcd_fixtures import etcd_shared  # noqa: F401
from store_harness import context, new_namespace, spec

from agent_sync.core.errors import Conflict, NotAllowed, NotFound


@pytest.fixture(params=["sqlite", "etcd"])
def agent(request, tmp_path):
    """agent(name) -> a Context acting as that agent, all on one store."""
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    url = request.getfixturevalue("etcd_shared").url if request.param == "etcd" else None
    namespace = new_namespace()
    made = []

    def make(name, closed_by_caller=False, **kw):
        ctx = context(root, name, url, namespace, **kw)
        if not closed_by_caller:
            made.append(ctx)
        return ctx

    make.backend = request.param
    yield make
    for ctx in made:
        ctx.close()


def paths(rows):
    return sorted(r["path"] for r in rows)


# -- presence -------------------------------------------------------------------


def test_check_in_registers_and_names_are_unique_among_active_agents(agent):
    a, b = agent("alice"), agent("bob")
    assert {r["id"] for r in a.store.agents()} == {"alice", "bob"}
    row = a.store.register("Lead", "reviewer")
    assert (row["name"], row["role"], row["status"]) == ("Lead", "reviewer", "active")
    with pytest.raises(Conflict):
        b.store.register("lead")
    assert b.store.find_agent("Lead")["id"] == "alice"
    with pytest.raises(NotFound):
        b.store.find_agent("nobody")


def test_idle_and_offline_states(agent):
    a, b = agent("alice"), agent("bob")
    a.store.set_state("idle")
    assert b.store.agent("alice")["status"] == "idle"
    a.store.set_state("offline")
    assert b.store.agent("alice")["status"] == "offline"
    assert "alice" not in {r["id"] for r in b.store.agents(include_offline=False)}
    a.store.set_state("active")
    a.store.register("Old")
    a.store.set_state("offline")
    assert b.store.register("Old")["name"] == "Old"  # an offline holder's name can move
    assert a.store.agent("alice")["name"] == "alice"


# -- locks ----------------------------------------------------------------------


def test_exclusive_locks_conflict_by_file_directory_and_pattern(agent):
    a, b = agent("alice"), agent("bob")
    (granted,) = a.store.acquire([spec(a, "src/app.py")], reason="refactor", ttl=60)
    assert granted["token"] > 0 and granted["owner"] == "alice"
    for raw in ("src/app.py", "src/", "src/*.py", "**/*.py"):
        with pytest.raises(Conflict) as refused:
            b.store.acquire([spec(b, raw)], ttl=60)
        assert "alice" in str(refused.value)
    b.store.acquire([spec(b, "src/*.md")], ttl=60)
    assert [s.path for s, _row in b.store.blockers([spec(b, "src/app.py")])] == ["src/app.py"]
    assert a.store.blockers([spec(a, "src/app.py")]) == []


def test_multi_path_lock_is_all_or_nothing(agent):
    a, b = agent("alice"), agent("bob")
    a.store.acquire([spec(a, "b.py")], ttl=60)
    with pytest.raises(Conflict):
        b.store.acquire([spec(b, "a.py"), spec(b, "b.py"), spec(b, "c.py")], ttl=60)
    assert paths(a.store.locks()) == ["b.py"]
    assert len(b.store.acquire([spec(b, "a.py"), spec(b, "c.py")], ttl=60)) == 2


def test_shared_locks_coexist_and_exclude_exclusive(agent):
    a, b, c = agent("alice"), agent("bob"), agent("carol")
    a.store.acquire([spec(a, "docs/")], mode="shared", ttl=60)
    b.store.acquire([spec(b, "docs/")], mode="shared", ttl=60)
    with pytest.raises(Conflict):
        c.store.acquire([spec(c, "docs/x.md")], ttl=60)
    assert b.store.blockers([spec(b, "docs/x.md")]) == []  # a sharer may edit
    assert c.store.blockers([spec(c, "docs/x.md")])


def test_release_renew_and_tokens(agent):
    a, b = agent("alice"), agent("bob")
    (first,) = a.store.acquire([spec(a, "f.py")], ttl=60)
    (again,) = a.store.acquire([spec(a, "f.py")], ttl=120)  # re-locking your own lock renews it
    assert again["token"] == first["token"] and again["ttl"] == 120
    with pytest.raises(Conflict):
        b.store.release([spec(b, "f.py")])
    with pytest.raises(NotFound):
        b.store.release([spec(b, "g.py")])
    assert a.store.renew() == ["f.py"]
    with pytest.raises(NotFound):
        a.store.renew([spec(a, "g.py")])
    assert b.store.release([spec(b, "f.py")], force=True) == ["f.py"]
    (later,) = b.store.acquire([spec(b, "f.py")], ttl=60)
    assert later["token"] > first["token"]
    b.store.acquire([spec(b, "g.py")], ttl=60)
    assert b.store.release_all() == 2
    assert a.store.locks() == []


def test_a_lock_ends_at_its_ttl(agent):
    a, b = agent("alice"), agent("bob")
    a.store.acquire([spec(a, "short.py")], ttl=1)
    with pytest.raises(Conflict):
        b.store.acquire([spec(b, "short.py")], ttl=60)
    time.sleep(1.3)
    b.tick()
    b.store.acquire([spec(b, "short.py")], ttl=60)
    assert [r["owner"] for r in b.store.locks()] == ["bob"]


def test_an_offline_holder_holds_nothing(agent):
    a, b = agent("alice"), agent("bob")
    a.store.acquire([spec(a, "f.py")], ttl=600)
    a.store.set_state("offline")
    assert b.store.blockers([spec(b, "f.py")]) == []
    b.store.acquire([spec(b, "f.py")], ttl=60)
    assert [r["owner"] for r in a.store.locks()] == ["bob"]


def test_waiting_is_granted_when_the_holder_releases(agent):
    a, b = agent("alice"), agent("bob")
    a.store.acquire([spec(a, "q.py")], ttl=60)
    got = {}

    def wait():
        c = agent("carol", closed_by_caller=True)  # SQLite connections stay in their thread
        try:
            got["rows"] = c.store.acquire([spec(c, "q.py")], ttl=60, wait=10)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            got["error"] = exc
        finally:
            c.close()

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.8)
    with pytest.raises(Conflict) as refused:  # a plain request may not jump the queue
        b.store.acquire([spec(b, "q.py")], ttl=60)
    a.store.release([spec(a, "q.py")])
    assert "queued" in str(refused.value) or "alice" in str(refused.value)
    waiter.join(15)
    assert "error" not in got, got
    assert got["rows"][0]["owner"] == "carol"
    with pytest.raises(Conflict):
        a.store.acquire([spec(a, "q.py")], ttl=60, wait=0.3)


# -- automatic leases ------------------------------------------------------------


def test_an_edit_takes_an_automatic_lease(agent):
    a, b = agent("alice"), agent("bob")
    assert a.store.record_edit([spec(a, "lib/z.py")], "Edit") == []
    (lease,) = a.store.locks()
    assert lease["auto_lease"] and lease["owner"] == "alice"
    (clash,) = b.store.blockers([spec(b, "lib/z.py")])
    assert "automatic lease" in b.store.explain([clash])
    held = b.store.record_edit([spec(b, "lib/z.py")], "Edit")
    assert [row["owner"] for _s, row in held] == ["alice"]
    assert a.store.release_leases("session ended") == 1
    assert a.store.locks() == []


# -- tasks ----------------------------------------------------------------------


def test_claims_dependencies_and_the_claim_next_order(agent):
    boss, a, b = agent("boss"), agent("alice"), agent("bob")
    low = boss.store.create_task("low", priority=0)["id"]
    high = boss.store.create_task("high", priority=5, files=["src/h.py"])["id"]
    later = boss.store.create_task("later", depends_on=[str(high)], priority=9)["id"]
    assert boss.store.find_task("High")["id"] == high
    with pytest.raises(Conflict):
        a.store.claim(str(later))
    notes = []
    got = a.store.claim_next(lock=True, explain=notes.append)
    assert got["id"] == high and got["owner"] == "alice" and got["status"] == "in_progress"
    assert any("waits on" in n for n in notes)
    assert paths(a.store.locks()) == ["src/h.py"]
    with pytest.raises(Conflict):
        b.store.claim(str(high))
    assert b.store.claim_next()["id"] == low
    with pytest.raises(NotFound):
        b.store.claim_next()
    assert [dict(r) for r in a.store.owned_tasks()] == [{"id": high, "title": "high"}]
    assert a.store.complete(str(high))["status"] == "done"
    assert a.store.locks() == []  # the claim's locks go with the task
    assert b.store.claim_next()["id"] == later
    assert boss.store.task_counts() == {"done": 1, "in_progress": 2}
    assert [t["id"] for t in boss.store.tasks()] == [later, low, high]  # in progress by priority, then done
    assert [t["id"] for t in boss.store.tasks(states=["done"])] == [high]


def test_block_cancel_reopen_and_force(agent):
    boss, a = agent("boss"), agent("alice")
    tid = boss.store.create_task("t", description="d")["id"]
    a.store.claim(str(tid))
    with pytest.raises(Conflict):
        boss.store.complete(str(tid))
    assert boss.store.block(str(tid), "waiting", force=True)["block_reason"] == "waiting"
    with pytest.raises(Conflict):
        a.store.claim(str(tid))
    assert a.store.reopen(str(tid))["status"] == "open"
    assert a.store.cancel(str(tid))["status"] == "cancelled"
    assert [t["id"] for t in boss.store.task_board("cancelled", 5)] == [tid]
    with pytest.raises(NotFound):
        boss.store.task(999)


# -- messages -------------------------------------------------------------------


def test_messages_are_delivered_once(agent):
    a, b, c = agent("alice"), agent("bob"), agent("carol")
    first = a.store.send("bob", "hello")
    a.store.send("all", "to everyone")
    assert [m["body"] for m in b.store.pending()] == ["hello", "to everyone"]
    assert a.store.pending() == []  # not to its sender
    taken, left = b.store.take_pending("prompt", how_many=lambda rows: 1)
    assert ([m["id"] for m in taken], left) == ([first], 1)
    taken, left = b.store.take_pending("prompt")
    assert ([m["body"] for m in taken], left) == (["to everyone"], 0)
    assert b.store.take_pending("prompt") == ([], 0)
    assert b.store.high_water() >= first
    assert [m["body"] for m in c.store.take_pending("stop")[0]] == ["to everyone"]
    assert [m["body"] for m in b.store.history()] == ["hello", "to everyone"]
    with pytest.raises(NotAllowed):
        c.store.read_message(first)
    assert b.store.ack(first)["id"] == first
    with pytest.raises(NotFound):
        a.store.send("nobody", "x")
    with pytest.raises(NotFound):
        a.store.read_message(999)


def test_a_directive_to_all_is_one_copy_per_active_agent(agent):
    a, b, c = agent("alice"), agent("bob"), agent("carol")
    c.store.set_state("offline")
    ids = a.store.directive("all", "stop and commit")
    assert len(ids) == 1
    (m,) = b.store.pending(directed_only=True)
    assert (m["kind"], m["recipient"]) == ("directive", "bob")
    assert [r["id"] for r in a.store.recent_messages(after_id=0)] == ids


# -- journal and upkeep -------------------------------------------------------------


def test_decisions_and_activity(agent):
    a = agent("alice")
    d1 = a.store.decide("use etcd")
    d2 = a.store.decide("keep sqlite default")
    assert [d["id"] for d in a.store.decisions()] == [d2, d1]
    assert [d["text"] for d in a.store.decisions(limit=1)] == ["keep sqlite default"]
    mark = a.store.add_entry("note", "first")
    a.store.add_entry("note", "second")
    newer = a.store.recent_activity(after_id=mark)
    assert [r["message"] for r in newer] == ["second"]
    assert newer[0]["agent_name"] == "alice"
    counts = a.store.gc()
    assert {"expired_locks", "went_offline", "activity", "messages"} <= set(counts)
    with a.store.snapshot():
        assert a.store.locks() == []
