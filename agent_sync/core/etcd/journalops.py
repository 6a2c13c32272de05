"""Activity and decisions on etcd: rows ride in the txn they record, and stay within the caps.

Keys are ordered by the writer's clock (keys.py), so the retention window is
one range delete in the same txn. The row caps (AGENT_SYNC_KEEP_ACTIVITY,
AGENT_SYNC_KEEP_DECISIONS) need a count, which a write asks for once in
PRUNE_EVERY (at random: no shared counter to contend on); then it deletes
the oldest rows past the cap, as gc does.
"""

from typing import TYPE_CHECKING, Any


import os
import random

from .. import config, validate
from .engine import Plan, transact
from .keys import loads

PRUNE_EVERY = 50
KEEP_DECISIONS = 2000
ACTIVITY_IDS = 100  # an activity id is create_revision * 100 + its index in the txn


def log(store: "EtcdStore", plan: Plan, kind: str, message: Any, path: Any = None) -> Any:
    """Add one activity row to `plan` (and, now and then, the pruning that keeps the feed bounded)."""
    ctx, keys = store.ctx, store.keys
    index = plan.logged
    if index >= ACTIVITY_IDS - 1:
        return
    if index == 0:
        plan.tag = os.urandom(4).hex()
        cutoff = (ctx.now - config.duration("AGENT_SYNC_RETENTION")) * 1e9
        plan.delete(keys.activities, range_end=keys.before(keys.activities, cutoff))
    plan.logged = index + 1
    plan.put(keys.activity(ctx.now * 1e9, f"{plan.tag}-{index:02d}"),
             {"agent": ctx.me.id, "type": kind, "message": message, "path": path, "created_at": ctx.now})


def prune_due() -> Any:
    return random.randrange(PRUNE_EVERY) == 0


def trim(store: "EtcdStore", prefix: str, cap: int) -> Any:
    """Delete the oldest keys under a time-keyed prefix beyond `cap`. Returns how many went."""
    total = store.client.range(prefix, prefix=True, count_only=True, timeout=store.timeout()).count
    excess = total - cap
    if excess <= 0:
        return 0
    oldest = store.client.range(prefix, prefix=True, keys_only=True, limit=excess, timeout=store.timeout()).kvs
    if not oldest:
        return 0
    store.client.delete(prefix, range_end=oldest[-1].key + b"\0", timeout=store.timeout())
    return len(oldest)


def activity_id(kv: Any) -> Any:
    return kv.create_revision * ACTIVITY_IDS + int(kv.key.rsplit(b"-", 1)[-1])


def add_entry(store: "EtcdStore", kind: str, message: Any, path: Any = None) -> Any:
    ctx = store.ctx
    kind = validate.text(kind, "type")
    message = validate.text(message, "message", multiline=True)
    rel = ctx.repo_path(path) if path else None

    def decide(_view):
        plan = Plan(None)
        log(store, plan, kind, message, rel)
        return plan

    entry = transact(store, (), decide, finish=lambda _r, revision: revision * ACTIVITY_IDS)
    store.maybe_prune()
    return entry


def decide(store: "EtcdStore", text: str) -> Any:
    ctx, keys = store.ctx, store.keys
    text = validate.text(text, "decision", multiline=True)

    def plan_it(_view):
        plan = Plan(None)
        plan.put(keys.decision(ctx.now * 1e9, os.urandom(4).hex()),
                 {"agent": ctx.me.id, "text": text, "created_at": ctx.now})
        log(store, plan, "decision", text[:200])
        return plan

    decision_id = transact(store, (), plan_it, finish=lambda _r, revision: revision)
    if prune_due():
        trim(store, keys.decisions, KEEP_DECISIONS)
    return decision_id


def decisions(store: "EtcdStore", limit: int | None = None) -> Any:
    rows = []
    for kv in store.range(store.keys.decisions):
        row = loads(kv.value)
        row["id"] = kv.create_revision
        rows.append(row)
    rows.sort(key=lambda r: r["id"], reverse=True)
    names = store.agent_names()
    for row in rows[: limit or None]:
        row["agent_name"] = names.get(row["agent"], row["agent"])
    return rows[: limit or None]


def recent(store: "EtcdStore", limit: int = 20, after_id: int = 0) -> Any:
    """Newest activity first, ids above after_id (the live views poll with it)."""
    keys = store.keys
    if after_id:
        found = store.range(keys.activities, min_create_revision=after_id // ACTIVITY_IDS)
    else:  # the last day first: the whole feed only when that holds fewer than `limit`
        found = store.range(keys.activities, start=keys.before(keys.activities, (store.ctx.now - 86400) * 1e9))
        if len(found) < limit:
            found = store.range(keys.activities)
    rows = []
    for kv in found:
        row = loads(kv.value)
        row["id"] = activity_id(kv)
        if row["id"] > after_id:
            rows.append(row)
    rows.sort(key=lambda r: r["id"], reverse=True)
    names = store.agent_names()
    for row in rows[:limit]:
        row["agent_name"] = names.get(row["agent"], row["agent"])
    return rows[:limit]


if TYPE_CHECKING:
    from .store import EtcdStore
