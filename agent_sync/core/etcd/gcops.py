"""gc on etcd: what leases do not already end, within the same caps as core.gc.

Expired locks and silent agents' presence mostly go with their leases; this
pass drops locks past their own expires_at (a TTL shorter than a lease),
marks long-silent agents offline, prunes history to the retention window and
row caps, and forgets offline agents that hold nothing.
"""

from typing import TYPE_CHECKING, Any


from .. import config, gc, tasks
from . import journalops
from .engine import Plan, transact, translated
from .keys import loads


def collect(store: "EtcdStore") -> Any:
    ctx, keys = store.ctx, store.keys
    counts = {}

    def decide(view):
        plan = Plan({"expired_locks": 0, "went_offline": 0, "stale_waiters": 0, "forgotten_agents": 0})
        cutoff = ctx.now - config.duration("AGENT_SYNC_RETENTION")
        owners = set()
        for kv in view.under(keys.locks):
            _key, owner = keys.lock_parts(kv.key)
            owners.add(owner)
            if loads(kv.value)["expires_at"] <= ctx.now:
                plan.delete(kv.key.decode("utf-8"))
                plan.same(kv.key.decode("utf-8"), kv)
                plan.result["expired_locks"] += 1
        busy = {v["owner"] for v in (loads(kv.value) for kv in view.under(keys.tasks))
                if v["status"] == tasks.IN_PROGRESS}
        for kv in view.under(keys.agents):
            row = loads(kv.value)
            key = kv.key.decode("utf-8")
            if row["kind"] == "agent" and row["last_seen"] < cutoff and row["id"] not in owners | busy:
                plan.delete(key)
                plan.delete(keys.name(row["name_key"]))
                plan.delete(keys.mail(row["id"]))
                plan.delete(keys.rcpt_prefix(row["id"]), prefix=True)
                plan.same(key, kv)
                plan.result["forgotten_agents"] += 1
            elif row["state"] != "offline" and row["last_seen"] < ctx.now - ctx.offline_after:
                plan.put(key, dict(row, state="offline"))
                plan.same(key, kv)
                plan.result["went_offline"] += 1
        return plan

    counts.update(transact(store, [], decide, [keys.locks, keys.agents, keys.tasks]))
    if counts["expired_locks"]:
        store.locks_changed(removed=True)
    with translated():
        counts.update(prune_history(store))
    counts["subagent_links"] = gc._prune_subagent_links(ctx)
    return counts


def prune_history(store: "EtcdStore") -> Any:
    """Activity and messages within AGENT_SYNC_RETENTION and their caps; decisions within theirs."""
    ctx, keys, client = store.ctx, store.keys, store.client
    cutoff = ctx.now - config.duration("AGENT_SYNC_RETENTION")
    removed = {}
    old = client.delete(keys.activities, range_end=keys.before(keys.activities, cutoff * 1e9), timeout=store.timeout())
    capped = journalops.trim(store, keys.activities, config.count("AGENT_SYNC_KEEP_ACTIVITY"))
    removed["activity"] = old.deleted + capped
    gone = 0
    for kv in store.range(keys.msgs):  # ids follow time: stop at the first message inside the window
        if loads(kv.value)["created_at"] >= cutoff:
            break
        gone += 1
        last = kv.key
    if gone:
        client.delete(keys.msgs, range_end=last + b"\0", timeout=store.timeout())
    removed["messages"] = gone
    journalops.trim(store, keys.decisions, journalops.KEEP_DECISIONS)
    return removed


if TYPE_CHECKING:
    from .store import EtcdStore
