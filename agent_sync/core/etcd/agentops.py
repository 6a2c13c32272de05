"""Agents and presence on etcd.

An agent's row (P/agents/<id>) carries state and last_seen as in SQLite, and
core.agents.status_of reads it the same way. Holding (locks enforced, tasks
kept) also needs P/presence/<id>, a key on a lease the check-in renews: TTL
AGENT_SYNC_STALE_AFTER while active, AGENT_SYNC_OFFLINE_AFTER once idle, so
the leader's clock, not a writer's, ends a silent agent's hold.
"""

from typing import TYPE_CHECKING, Any


import math

from .. import agents, config, validate
from ..errors import Busy
from ..identity import OPERATOR
from . import journalops
from .engine import Plan, transact, translated
from .keys import dumps, loads

CHECKIN_WAIT = agents.CHECKIN_WAIT


def holds(store: "EtcdStore", row: Any, present: Any) -> Any:
    """Does this agent (row, and whether its presence key exists) keep its locks and tasks?"""
    return present and agents.holds(row, store.ctx)


def check_in(store: "EtcdStore", state: str = "active") -> Any:
    ctx = store.ctx
    with translated():
        row = store.agent_row(ctx.me.id)
    due = row is None or row["state"] != state or ctx.now - row["last_seen"] >= config.CHECKIN_THROTTLE
    if not due:
        return
    if row is None:
        touch(store, state)
        return
    try:
        touch(store, state, timeout=CHECKIN_WAIT)
    except Busy:
        pass  # best effort, as in SQLite: the next command checks in again


def touch(store: "EtcdStore", state: str, timeout: Any = None, plan_more: Any = None, also: Any = ()) -> Any:
    """Write the caller's state and last_seen and renew its presence (creating the agent on first use).

    `plan_more(view, plan, row)` adds the writes of the operation this check-in is part of.
    """
    ctx, keys = store.ctx, store.keys
    me = ctx.me.id
    lease = 0
    if state != "offline":
        ttl = ctx.stale_after if state == "active" else ctx.offline_after
        with translated():
            lease = store.client.lease_grant(max(2, math.ceil(ttl)), timeout=timeout or store.timeout()).id

    def decide(view):
        plan = Plan(None)
        kv = view.one(keys.agent(me))
        if kv is None:
            row = _new_row(store, view, state)
            plan.put(keys.name(row["name_key"]), dumps(me))
            plan.same(keys.name(row["name_key"]), None)
            seq = view.value(keys.seq("msgs"), 0)
            plan.put(keys.mail(me), {"hw": seq, "floor": seq})
            journalops.log(store, plan, "presence", "joined")
        else:
            row = loads(kv.value)
            row.update(state=state, last_seen=ctx.now, cwd=agents.storable(ctx.cwd))
        if plan_more is not None:
            plan_more(view, plan, row)
        plan.put(keys.agent(me), row)
        if lease:
            plan.put(keys.presence(me), {"state": state}, lease)
        else:
            plan.delete(keys.presence(me))
        return plan

    peek = [keys.names, keys.seq("msgs"), *also]
    store.with_timeout(timeout, lambda: transact(store, [keys.agent(me)], decide, peek=peek))


def _new_row(store, view, state):
    ctx = store.ctx
    taken = {store.keys.tail(kv.key, store.keys.names) for kv in view.under(store.keys.names)}
    from .keys import enc

    name = agents.free_name(ctx.me.id, lambda key: enc(key) in taken)
    return {"id": ctx.me.id, "name": name, "name_key": validate.key(name), "role": "", "role_key": "",
            "kind": "operator" if ctx.me.id == OPERATOR else "agent", "session": agents.storable(ctx.me.session),
            "cwd": agents.storable(ctx.cwd), "state": state, "current_task": None, "created_at": ctx.now,
            "last_seen": ctx.now}


def register(store: "EtcdStore", name: str, role: str | None = None) -> Any:
    ctx, keys = store.ctx, store.keys
    name, role = agents.check_name(ctx, name, role)
    name_key = validate.key(name)

    def more(view, plan, row):
        others = [dict(r, status=agents.status_of(r, ctx)) for r in (loads(kv.value) for kv in view.under(keys.agents))]
        agents.refuse_hijack(ctx.me.id, name, role, others)  # the addressing rule, as the SQLite store applies it
        holder = view.value(keys.name(name_key))
        if holder is not None and holder != ctx.me.id:
            other = store.agent_row(holder, view) or {"id": holder, "state": "offline", "last_seen": 0}
            other = dict(other, status=agents.status_of(other, ctx))
            agents.name_taken(name, other)
            if "name" in other:  # the old holder is gone: it falls back to its id so the name can move
                plan.put(keys.agent(holder), dict(other, name=holder, name_key=holder.lower()))
                plan.put(keys.name(holder.lower()), dumps(holder))
            plan.same(keys.agent(holder), view.one(keys.agent(holder)))
        if row["name_key"] != name_key:
            plan.delete(keys.name(row["name_key"]))
        plan.put(keys.name(name_key), dumps(ctx.me.id))
        plan.same(keys.name(name_key), view.one(keys.name(name_key)))
        row.update(name=name, name_key=name_key)
        if role is not None:
            row.update(role=role, role_key=validate.key(role))

    touch(store, "active", plan_more=more, also=[keys.agents])
    return agent(store, ctx.me.id)


def set_state(store: "EtcdStore", state: str) -> Any:
    def more(_view, plan, _row):
        if state != "active":
            journalops.log(store, plan, "presence", f"went {state}")

    touch(store, state, plan_more=more)


def agent(store: "EtcdStore", agent_id: str) -> Any:
    row = store.agent_row(agent_id)
    if row is None:
        return None
    return dict(row, status=agents.status_of(row, store.ctx))


def find(store: "EtcdStore", ref: Any) -> Any:
    from ..errors import NotFound

    key = validate.key(ref)
    for row in store.agent_rows():
        if row["id"] == ref or row["name_key"] == key:
            return agent(store, row["id"])
    raise NotFound(f"no agent {ref!r}")


def listing(store: "EtcdStore", include_offline: bool = True) -> Any:
    ctx = store.ctx
    titles = {}
    rows = []
    for row in store.agent_rows():
        row = dict(row, status=agents.status_of(row, ctx))
        if include_offline or row["status"] != "offline":
            rows.append(row)
    wanted = {r["current_task"] for r in rows if r["current_task"]}
    if wanted:
        titles = {t["id"]: t["title"] for t in store.task_values() if t["id"] in wanted}
    for row in rows:
        row["task_title"] = titles.get(row["current_task"])
    rows.sort(key=lambda r: -r["last_seen"])
    rows.sort(key=lambda r: r["kind"] == "operator")
    return rows


if TYPE_CHECKING:
    from .store import EtcdStore
