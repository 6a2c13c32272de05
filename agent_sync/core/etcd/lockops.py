"""Locks, automatic leases and the wait queue on etcd; the rules are core.locks' and core.waitqueue's.

A lock is P/locks/<enc(key)>/<owner>, on a lease as long as its TTL; its
value keeps expires_at too, so a TTL shorter than etcd's shortest lease still
ends on time (a lock is live while the key exists and expires_at is ahead).
The token is the key's create_revision: a renewal rewrites the key and keeps
it, a new grant gets the revision of its txn, which rises across failover.

Every grant reads P/locks/ and P/waiters/ at R and commits only if neither
prefix gained or rewrote a key since (engine.transact): two overlapping
grants can never both commit, whatever their kinds (file, directory, glob).
"""

from typing import TYPE_CHECKING, Any


import math

from .. import agents, blocking, lockspec, locks, waitqueue
from ..errors import Conflict
from . import agentops, journalops
from .engine import Plan, View, read, transact, translated
from .keys import loads

WAITER_TTL = math.ceil(waitqueue.STALE_WAITER)


class Seen:
    """Locks, waiters, agents and presence of one view, as the rule modules want them."""

    def __init__(self, store: "EtcdStore", view: View):
        self.store, self.view = store, view
        ctx, keys = store.ctx, store.keys
        self.agents = {keys.tail(kv.key, keys.agents): loads(kv.value) for kv in view.under(keys.agents)}
        self.present = {keys.tail(kv.key, keys.presences) for kv in view.under(keys.presences)}
        self.rows = []
        for kv in view.under(keys.locks):
            key, owner = keys.lock_parts(kv.key)
            row = loads(kv.value)
            agent = self.agents.get(owner)
            row.update(id=kv.create_revision, token=kv.create_revision, key=key, owner=owner,
                       owner_name=agent["name"] if agent else owner,
                       owner_status=agents.status_of(agent, ctx) if agent else "offline",
                       enforced=self.holds(owner))
            row["_kv"] = kv
            self.rows.append(row)

    def holds(self, agent_id: str) -> Any:
        agent = self.agents.get(agent_id)
        return agent is not None and agentops.holds(self.store, agent, agent_id in self.present)

    def live(self) -> Any:
        now = self.store.ctx.now
        return [r for r in self.rows if r["expires_at"] > now]

    def others(self, holding_only: Any = True) -> Any:
        """core.locks._live_by_others: live locks of others (whose owners hold), leases as configured."""
        ctx = self.store.ctx
        return [r for r in self.live() if r["owner"] != ctx.me.id and (r["enforced"] or not holding_only)
                and (ctx.auto_lease or not r["auto_lease"])]

    def mine(self, live: Any = True) -> Any:
        me = self.store.ctx.me.id
        return [r for r in (self.live() if live else self.rows) if r["owner"] == me]

    def waiters(self) -> Any:
        """Waiter rows in queue order (id = place = create_revision)."""
        keys = self.store.keys
        rows = []
        for kv in sorted(self.view.under(keys.waiters), key=lambda kv: kv.create_revision):
            row = loads(kv.value)
            agent = self.agents.get(row["agent"])
            rows.append(dict(row, id=kv.create_revision, name=agent["name"] if agent else row["agent"]))
        return rows

    def keep_presence(self, plan: Plan, agent_id: str) -> Any:
        """The decision relies on this agent not holding: commit only if that is still so."""
        keys = self.store.keys
        plan.same(keys.presence(agent_id), self.view.one(keys.presence(agent_id)))
        plan.same(keys.agent(agent_id), self.view.one(keys.agent(agent_id)))


def public(row: Any) -> Any:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def reads(store: "EtcdStore") -> Any:
    keys = store.keys
    return [keys.locks, keys.waiters], [keys.agents, keys.presences]


def grant_lease(store: "EtcdStore", ttl: float) -> Any:
    with translated():
        return store.client.lease_grant(max(1, math.ceil(ttl)), timeout=store.timeout()).id


def revoke(store: "EtcdStore", lease: Any) -> Any:
    try:
        store.client.lease_revoke(lease, timeout=1.0)
    except Exception:  # noqa: BLE001 - best effort: an unused lease ends with its TTL anyway
        pass


def grant(store: "EtcdStore", seen: Seen, plan: Plan, specs: Any, reason: str, ttl: float, mode: str,
          task_id: int | None, lease: int, auto_lease: bool = False) -> list:
    """core.locks.grant on a view: raise Conflict, or add every lock to `plan`. Returns the rows.

    An automatic lease is taken after core.blocking.covering said no one else holds the file.
    """
    ctx, keys = store.ctx, store.keys
    clashes = [] if auto_lease else locks.clashing(seen.others(), specs, mode)
    if clashes:
        raise Conflict(blocking.explain(clashes, ctx.now))
    void_abandoned(store, seen, plan, specs)
    mine = {r["key"]: r for r in seen.mine(live=False)}
    granted = []
    for spec in specs:
        old = mine.get(spec.key)
        key = keys.lock(spec.key, ctx.me.id)
        if old is not None:
            row = {k: old[k] for k in ("path", "kind", "reason", "task_id", "created_at", "auto_lease")}
            if reason:
                row["reason"] = reason
            row["task_id"] = task_id if old["auto_lease"] else (task_id if task_id is not None else old["task_id"])
            verb = "locked (was an automatic lease)" if old["auto_lease"] else "renewed"
            row.update(mode=mode, ttl=ttl, expires_at=ctx.now + ttl, auto_lease=auto_lease)
            plan.same(key, old["_kv"])
            token = old["token"]
            journalops.log(store, plan, "lock", f"{verb} {spec.path}", spec.path)
        else:
            row = {"path": spec.path, "kind": spec.kind, "mode": mode, "reason": reason, "task_id": task_id,
                   "ttl": ttl, "created_at": ctx.now, "expires_at": ctx.now + ttl, "auto_lease": auto_lease}
            token = None  # the commit's revision
            note = "automatic lease on" if auto_lease else "locked"
            journalops.log(store, plan, "lock", f"{note} {spec.path}" + (f" ({reason})" if reason else ""),
                           spec.path)
        plan.put(key, row, lease)
        granted.append(dict(row, key=spec.key, owner=ctx.me.id, token=token, id=token))
    return granted


def with_tokens(rows: Any, revision: int) -> Any:
    for row in rows:
        if row["token"] is None:
            row["token"] = row["id"] = revision
    return rows


def void_abandoned(store: "EtcdStore", seen: Seen, plan: Plan, specs: Any) -> Any:
    """Drop same-key locks whose owners no longer hold, or that expired (core.locks.void_abandoned)."""
    ctx = store.ctx
    wanted = {s.key: s for s in specs}
    for row in seen.rows:
        spec = wanted.get(row["key"])
        if spec is None or row["owner"] == ctx.me.id:
            continue
        if row["expires_at"] <= ctx.now or not row["enforced"]:
            plan.delete(row["_kv"].key.decode("utf-8"))
            plan.same(row["_kv"].key.decode("utf-8"), row["_kv"])
            seen.keep_presence(plan, row["owner"])
            journalops.log(store, plan, "lock", f"took over {spec.path} from {row['owner']}", spec.path)


def acquire(store: "EtcdStore", specs: Any, reason: str = "", ttl: float = 3600.0, mode: str = "exclusive",
            task_id: int | None = None, wait: float | None = None) -> list:
    from .. import validate

    ctx = store.ctx
    reason = validate.text(reason, "reason", allow_empty=True)
    watch, peek = reads(store)
    lease = grant_lease(store, ttl)

    def decide(view, waiter=None):
        seen = Seen(store, view)
        plan = Plan()
        held = {r["key"] for r in seen.mine()}
        wanted = [s for s in specs if s.key not in held]
        ahead = waitqueue.queued_before(seen.waiters(), ctx.me.id, wanted if waiter is None else specs, mode,
                                        None if waiter is None else waiter["place"])
        if waiter is None:
            waitqueue.queue_jump(wanted, ahead)
        elif ahead:
            raise waitqueue.behind(specs, ahead)
        plan.result = grant(store, seen, plan, specs, reason, ttl, mode, task_id, lease)
        if waiter is not None:
            plan.delete(waiter["key"])
        return plan

    def finish(rows, revision):
        return with_tokens(rows, revision)

    try:
        if wait is None:
            granted = transact(store, watch, decide, peek, finish=finish)
        else:
            granted = _wait(store, specs, mode, wait, decide, finish)
    except BaseException:
        revoke(store, lease)
        raise
    store.locks_changed(granted)
    return granted


def _wait(store, specs, mode, timeout, decide, finish):
    ctx = store.ctx
    watch, peek = reads(store)

    def attempt(waiter):
        store.check_in()
        if waiter is not None:
            with translated():
                store.client.lease_keepalive(waiter["lease"], timeout=store.timeout())
        try:
            return transact(store, watch, lambda view: decide(view, waiter), peek, finish=finish)
        except Conflict as exc:
            return exc

    def enqueue():
        lease = grant_lease(store, WAITER_TTL)
        key = store.keys.waiter(f"{ctx.me.id}-{lease:x}")

        def plan_it(view):
            seen = Seen(store, view)
            queue = [(w["id"], w["agent"], list(waitqueue.decode(w["specs"]))) for w in seen.waiters()]
            held = [r for r in seen.live() if r["enforced"]]
            waitqueue.refuse_deadlock(ctx.me.id, specs, mode, queue, held)
            plan = Plan()
            plan.put(key, {"agent": ctx.me.id, "specs": waitqueue.encode(specs, mode)}, lease)
            return plan

        place = transact(store, watch, plan_it, peek, finish=lambda _r, revision: revision)
        return {"key": key, "lease": lease, "place": place}

    def leave(waiter):
        try:
            with translated():
                store.client.delete(waiter["key"], timeout=1.0)
        except Exception:  # noqa: BLE001 - the waiter's lease ends it within seconds anyway
            pass
        revoke(store, waiter["lease"])

    return waitqueue.wait_loop(ctx, timeout, attempt, enqueue, leave)


def release(store: "EtcdStore", specs: Any, force: bool = False) -> Any:
    ctx, keys = store.ctx, store.keys

    def decide(view):
        seen = Seen(store, view)
        plan = Plan([])
        my_leases = [r for r in seen.mine(live=False) if r["auto_lease"]]
        for spec in specs:
            rows = [r for r in seen.rows if r["key"] == spec.key]
            for row in locks.to_release(ctx, spec, rows, locks.leases_under(spec, my_leases), force):
                key = keys.lock(row["key"], row["owner"])
                plan.delete(key)
                plan.same(key, row["_kv"])
                verb = "released" if row["owner"] == ctx.me.id else f"broke {row['owner']}'s lock on"
                journalops.log(store, plan, "lock", f"{verb} {spec.path}", spec.path)
            plan.result.append(spec.path)
        return plan

    released = transact(store, [], decide, [keys.locks, keys.agents, keys.presences])
    store.locks_changed(removed=True)
    return released


def release_mine(store: "EtcdStore", which: Any, note: Any) -> Any:
    """Delete the caller's locks that `which(row)` picks; log note(count). Returns how many."""
    keys = store.keys

    def decide(view):
        seen = Seen(store, view)
        plan = Plan(0)
        for row in seen.mine(live=False):
            if which(row):
                plan.delete(keys.lock(row["key"], row["owner"]))
                plan.result += 1
        if plan.result:
            journalops.log(store, plan, "lock", note(plan.result))
        return plan

    count = transact(store, [], decide, [keys.locks])
    if count:
        store.locks_changed(removed=True)
    return count


def release_all(store: "EtcdStore") -> Any:
    return release_mine(store, lambda _row: True, lambda n: f"released all {n} lock(s) at session end")


def release_leases(store: "EtcdStore", why: str) -> Any:
    return release_mine(store, lambda row: row["auto_lease"], lambda n: f"released {n} automatic lease(s): {why}")


def renew(store: "EtcdStore", specs: Any = None, ttl: float | None = None) -> Any:
    keys = store.keys
    leases: dict = {}

    def decide(view):
        seen = Seen(store, view)
        plan = Plan()
        rows = locks.to_renew(seen.mine(), specs)
        if rows:
            _renew_on(store, plan, rows, ttl, leases)
        plan.result = [r["path"] for r in rows]
        return plan

    paths = transact(store, [], decide, [keys.locks, keys.agents, keys.presences])
    store.locks_changed()
    return paths


def _renew_on(store, plan, rows, ttl, leases):
    """renew_rows, granting the lease once per call (not per retry)."""
    longest = max((ttl or r["ttl"]) for r in rows)
    if leases.get("ttl", 0) < longest:
        leases.update(ttl=longest, id=grant_lease(store, longest))
    ctx, keys = store.ctx, store.keys
    for row in rows:
        value = {k: row[k] for k in ("path", "kind", "mode", "reason", "task_id", "ttl", "created_at", "auto_lease")}
        until = ctx.now + (ttl or row["ttl"])
        if until >= row["expires_at"]:  # a longer --ttl becomes the lock's own (core.locks.renew, core/clock.py)
            value["ttl"] = ttl or row["ttl"]
        value["expires_at"] = max(row["expires_at"], until)
        key = keys.lock(row["key"], row["owner"])
        plan.put(key, value, leases["id"])
        plan.same(key, row["_kv"])


def listing(store: "EtcdStore", include_expired: bool = False, mine: bool = False) -> Any:
    seen = Seen(store, read(store, [store.keys.locks, store.keys.agents, store.keys.presences],
                            revision=store.pinned))
    rows = seen.rows if include_expired else seen.live()
    if mine:
        rows = [r for r in rows if r["owner"] == store.ctx.me.id]
    return sorted((public(r) for r in rows), key=lambda r: (r["path"], r["id"]))


def blockers(store: "EtcdStore", specs: Any) -> Any:
    if not specs:
        return []
    seen = Seen(store, read(store, [store.keys.locks, store.keys.agents, store.keys.presences],
                            revision=store.pinned))
    return [(spec, public(row)) for spec, row in blocking.covering(specs, seen.others(), seen.mine())]


def record_edit(store: "EtcdStore", specs: Any, tool_name: str) -> Any:
    """Log the edit, renew the caller's locks covering it, take or renew its automatic leases (core.leases)."""
    ctx, keys = store.ctx, store.keys
    leases: dict = {}

    def decide(view):
        seen = Seen(store, view)
        plan = Plan([])
        mine = seen.mine()
        renewing: dict = {}
        for spec in specs:
            journalops.log(store, plan, "edit", f"{tool_name} {spec.path}", spec.path)
            covering = [r for r in mine if not r["auto_lease"]
                        and lockspec.overlaps(r["key"], r["kind"], spec.key, spec.kind)]
            renewing.update((r["key"], r) for r in covering)
            if ctx.auto_lease is None or spec.kind != lockspec.FILE or covering:
                continue
            held = blocking.covering([spec], seen.others(), mine)
            if held:
                plan.result += [[spec.key, spec.path, spec.kind, public(row)] for _s, row in held]
                continue
            own = next((r for r in seen.mine(live=False) if r["key"] == spec.key), None)
            if own is not None and own["auto_lease"] and own["expires_at"] > ctx.now:
                renewing[own["key"]] = dict(own, ttl=ctx.auto_lease)
            else:
                lease = leases.get("auto") or leases.setdefault("auto", grant_lease(store, ctx.auto_lease))
                task_id = (seen.agents.get(ctx.me.id) or {}).get("current_task")
                grant(store, seen, plan, [spec], "", ctx.auto_lease, "exclusive", task_id, lease, auto_lease=True)
        if renewing:
            _renew_on(store, plan, list(renewing.values()), None, leases)
        return plan

    held = transact(store, [keys.locks], decide, [keys.agents, keys.presences])
    store.locks_changed()
    return [(lockspec.Spec(key, path, kind), row) for key, path, kind, row in held]


def record_refusal(store: "EtcdStore", clashes: Any, tool_name: str, wait: Any = None) -> Any:
    entries = blocking.refusal_entries(clashes, tool_name)

    def decide(_view):
        plan = Plan()
        for path, message in entries:
            journalops.log(store, plan, "blocked", message, path)
        return plan

    store.with_timeout(wait, lambda: transact(store, [], decide))


if TYPE_CHECKING:
    from .store import EtcdStore
