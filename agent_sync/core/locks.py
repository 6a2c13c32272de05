"""Locks: grant, renew, release and explain, all in short write transactions."""


from . import agents, blocking, clock, journal, lazy, lockspec, presence, sanitize, validate
from .blocking import LOCK_COLUMNS
from .errors import Conflict, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import waitqueue
else:  # only `lock` consults the wait queue
    lazy.modules("agent_sync.core", "waitqueue", globals())
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Sequence
    from typing import TypeVar

    from .context import Context
    from .lockspec import Spec
    from .store import Clash, Row

    R = TypeVar("R", bound=Row)  # a lock row: sqlite3.Row here, a dict in the etcd store

def _live_by_others(ctx: "Context", holding_only: bool = True,
                    file_keys: list[str] | None = None) -> "list[sqlite3.Row]":
    """Unexpired locks of other agents, with their owner's name and presence (blocking.others_query)."""
    return ctx.db.all(*blocking.others_query(ctx.me.id, ctx.now, ctx.presence(), bool(ctx.auto_lease),
                                             holding_only, file_keys))


def find_conflicts(ctx: "Context", specs: "Sequence[Spec]", mode: str) -> "list[tuple[Spec, sqlite3.Row]]":
    """Locks held by other live agents that stop `specs` being granted in `mode`."""
    return clashing(_live_by_others(ctx), specs, mode)


def clashing(rows: "Iterable[R]", specs: "Sequence[Spec]", mode: str) -> "list[tuple[Spec, R]]":
    """[(spec, row)] for the lock rows (others', live, holding) that stop `specs` in `mode`."""
    found: "list[tuple[Spec, R]]" = []
    for row in rows:
        for spec in specs:
            if lockspec.conflicts(mode, row["mode"]) and lockspec.overlaps(spec.key, spec.kind, row["key"], row["kind"]):
                found.append((spec, row))
                break
    return found


def acquire(ctx: "Context", specs: "Sequence[Spec]", reason: str = "", ttl: float = 3600.0, mode: str = "exclusive",
            task_id: int | None = None, wait: float | None = None) -> "list[sqlite3.Row]":
    """Grant every spec or none. With `wait` (seconds), queue fairly until granted."""
    reason = validate.text(reason, "reason", allow_empty=True)
    if wait is None:
        with ctx.db.write():
            waitqueue.refuse_if_queued(ctx, _not_held(ctx, specs), mode)
            return grant(ctx, specs, reason, ttl, mode, task_id)
    return waitqueue.wait_for(ctx, specs, mode, wait, lambda: grant(ctx, specs, reason, ttl, mode, task_id))


def _not_held(ctx: "Context", specs: "Iterable[Spec]") -> "list[Spec]":
    """The specs the caller holds no live lock on: re-locking your own lock renews it, queue or not."""
    held = {r["key"] for r in ctx.db.all("SELECT key FROM locks WHERE owner = ? AND expires_at > ?",
                                         (ctx.me.id, ctx.now))}
    return [s for s in specs if s.key not in held]


def grant(ctx: "Context", specs: "Sequence[Spec]", reason: str, ttl: float, mode: str,
          task_id: int | None) -> "list[sqlite3.Row]":
    """Inside a write transaction: raise Conflict, or take every lock."""
    clashes = find_conflicts(ctx, specs, mode)
    if clashes:
        raise Conflict(blocking.explain(clashes, ctx.now))
    void_abandoned(ctx, specs)
    granted = []
    for spec in specs:
        granted.append(_upsert(ctx, spec, reason, ttl, mode, task_id))
    ctx.db.locks_changed()
    return granted


def void_abandoned(ctx: "Context", specs: "Iterable[Spec]") -> None:
    """Drop same-key locks whose owners are stale, offline or expired: they no longer hold."""
    for spec in specs:
        rows = ctx.db.all(
            f"""SELECT l.id, l.owner FROM locks l JOIN agents a ON a.id = l.owner
                WHERE l.key = :key AND l.owner != :me
                  AND (l.expires_at <= :now OR NOT {presence.holds_sql('a')})""",
            dict(ctx.presence(), key=spec.key, me=ctx.me.id, now=ctx.now),
        )
        for row in rows:
            ctx.db.execute("DELETE FROM locks WHERE id = ?", (row["id"],))
            journal.log(ctx, "lock", f"took over {spec.path} from {row['owner']}", spec.path)
            ctx.db.locks_changed(removed=True)


def _upsert(ctx: "Context", spec: "Spec", reason: str, ttl: float, mode: str,
            task_id: int | None) -> "sqlite3.Row":
    mine = ctx.db.one("SELECT id, auto_lease FROM locks WHERE key = ? AND owner = ?", (spec.key, ctx.me.id))
    expires = ctx.now + ttl
    if mine is not None:
        # An explicit lock over the caller's own automatic lease turns it into a normal lock.
        ctx.db.execute(
            "UPDATE locks SET expires_at = ?, ttl = ?, mode = ?, reason = CASE WHEN ? = '' THEN reason ELSE ? END,"
            " task_id = CASE WHEN auto_lease = 1 THEN ? ELSE COALESCE(?, task_id) END, auto_lease = 0 WHERE id = ?",
            (expires, ttl, mode, reason, reason, task_id, task_id, mine["id"]),
        )
        verb = "locked (was an automatic lease)" if mine["auto_lease"] else "renewed"
        journal.log(ctx, "lock", f"{verb} {spec.path}", spec.path)
    else:
        token = next_token(ctx, spec.key)
        ctx.db.execute(
            "INSERT INTO locks (key, path, kind, mode, owner, reason, task_id, token, ttl, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (spec.key, spec.path, spec.kind, mode, ctx.me.id, reason, task_id, token, ttl, ctx.now, expires),
        )
        journal.log(ctx, "lock", f"locked {spec.path}" + (f" ({reason})" if reason else ""), spec.path)
    row = ctx.db.one(f"SELECT {LOCK_COLUMNS} FROM locks l WHERE key = ? AND owner = ?", (spec.key, ctx.me.id))
    assert row is not None  # written just above, in this transaction
    return row


def next_token(ctx: "Context", key: str) -> int:
    """The fencing token: a number per key that only ever grows."""
    ctx.db.execute(
        "INSERT INTO fences (key, token) VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET token = token + 1", (key,)
    )
    return ctx.db.scalar("SELECT token FROM fences WHERE key = ?", (key,))


def release(ctx: "Context", specs: "Iterable[Spec]", force: bool = False) -> list[str]:
    """Release the caller's locks on specs; others' only with force. All or nothing."""
    released = []
    with ctx.db.write():
        for spec in specs:
            rows = ctx.db.all("SELECT id, owner FROM locks WHERE key = ?", (spec.key,))
            for row in to_release(ctx, spec, rows, _my_leases_under(ctx, spec), force):
                ctx.db.execute("DELETE FROM locks WHERE id = ?", (row["id"],))
                verb = "released" if row["owner"] == ctx.me.id else f"broke {row['owner']}'s lock on"
                journal.log(ctx, "lock", f"{verb} {spec.path}", spec.path)
            released.append(spec.path)
        ctx.db.locks_changed(removed=True)
    return released


def to_release(ctx: "Context", spec: "Spec", rows: "list[R]", my_leases: "list[R]", force: bool) -> "list[R]":
    """Which of the lock rows on spec's key (plus the caller's leases under it) `unlock` drops, or why not."""
    mine = [r for r in rows if r["owner"] == ctx.me.id] + my_leases
    if mine:
        return mine
    if not rows:
        raise NotFound(f"{sanitize.quote(spec.path, 300)} is not locked")
    if force:
        return rows
    owners = ", ".join(sorted({r["owner"] for r in rows}))
    raise Conflict(f"{sanitize.quote(spec.path, 300)} is locked by {owners}, not by you; use --force to break the lock")


def _my_leases_under(ctx: "Context", spec: "Spec") -> "list[sqlite3.Row]":
    if spec.kind in (lockspec.FILE, lockspec.RESOURCE):
        return []
    rows = ctx.db.all("SELECT id, owner, key, kind FROM locks WHERE owner = ? AND auto_lease = 1", (ctx.me.id,))
    return leases_under(spec, rows)


def leases_under(spec: "Spec", my_leases: "Iterable[R]") -> "list[R]":
    """The caller's automatic leases on files inside a directory or pattern (`unlock src/` drops them)."""
    if spec.kind in (lockspec.FILE, lockspec.RESOURCE):
        return []
    return [r for r in my_leases if lockspec.overlaps(spec.key, spec.kind, r["key"], r["kind"])]


def release_all(ctx: "Context") -> int:
    """Drop every lock the caller holds (session end with auto-release)."""
    with ctx.db.write():
        count = ctx.db.execute("DELETE FROM locks WHERE owner = ?", (ctx.me.id,)).rowcount
        if count:
            journal.log(ctx, "lock", f"released all {count} lock(s) at session end")
            ctx.db.locks_changed(removed=True)
    return count


def release_task(ctx: "Context", task_id: int) -> int:
    """Inside a write transaction: drop the leases a task claim took."""
    count = ctx.db.execute("DELETE FROM locks WHERE task_id = ?", (task_id,)).rowcount
    if count:
        ctx.db.locks_changed(removed=True)
    return count


def renew(ctx: "Context", specs: "Iterable[Spec] | None" = None, ttl: float | None = None) -> list[str]:
    """Extend the caller's locks (all of them, or those named) by their own TTL."""
    with ctx.db.write():
        rows = ctx.db.all("SELECT id, key, path, ttl FROM locks WHERE owner = ? AND expires_at > ?",
                          (ctx.me.id, ctx.now))
        rows = to_renew(rows, specs)
        for row in rows:
            # A longer --ttl becomes the lock's own, so its expiry never lies beyond now + ttl (core/clock.py).
            until = ctx.now + (ttl or row["ttl"])
            ctx.db.execute("UPDATE locks SET ttl = CASE WHEN ? >= expires_at THEN ? ELSE ttl END,"
                           " expires_at = MAX(expires_at, ?) WHERE id = ?",
                           (until, ttl or row["ttl"], until, row["id"]))
        if rows:
            ctx.db.locks_changed()
    return [r["path"] for r in rows]


def to_renew(rows: "list[R]", specs: "Iterable[Spec] | None") -> "list[R]":
    """The caller's live lock rows `renew` extends: all, or those on specs (each must be held)."""
    if specs is None:
        return rows
    wanted = {s.key for s in specs}
    missing = wanted - {r["key"] for r in rows}
    if missing:
        raise NotFound(f"you hold no live lock on {', '.join(sorted(missing))}")
    return [r for r in rows if r["key"] in wanted]


def renew_covering(ctx: "Context", spec: "Spec") -> int:
    """Inside a write transaction: extend the caller's locks that cover a file just edited.

    Returns how many there were. Automatic leases are not counted: the edit renews those itself.
    """
    rows = ctx.db.all("SELECT id, key, kind, ttl FROM locks WHERE owner = ? AND expires_at > ? AND auto_lease = 0",
                      (ctx.me.id, ctx.now))
    touched = 0
    for row in rows:
        if lockspec.overlaps(row["key"], row["kind"], spec.key, spec.kind):
            ctx.db.execute("UPDATE locks SET expires_at = MAX(expires_at, ?) WHERE id = ?",
                           (ctx.now + row["ttl"], row["id"]))
            touched += 1
    if touched:
        ctx.db.locks_changed()
    return touched


def listing(ctx: "Context", include_expired: bool = False, mine: bool = False) -> "list[sqlite3.Row]":
    where = ["1 = 1"]
    params = dict(ctx.presence(), now=ctx.now, me=ctx.me.id)
    if not include_expired:
        where.append("l.expires_at > :now")
    if mine:
        where.append("l.owner = :me")
    return ctx.db.all(
        f"""SELECT {LOCK_COLUMNS}, a.name AS owner_name, {presence.status_sql('a')} AS owner_status,
                   {presence.holds_sql('a')} AS enforced
            FROM locks l JOIN agents a ON a.id = l.owner
            WHERE {' AND '.join(where)} ORDER BY l.path, l.id""",
        params,
    )


def blockers(ctx: "Context", specs: "Sequence[Spec]") -> "list[tuple[Spec, sqlite3.Row]]":
    """Locks that stop the caller editing any of `specs` (the hook's question)."""
    if not specs:
        return []
    _settle_clock(ctx)
    others = _live_by_others(ctx, file_keys=blocking.file_keys(specs))
    if not others:
        return []
    return blocking.covering(specs, others, ctx.db.all(blocking.MINE_SQL, (ctx.me.id, ctx.now)))


def _settle_clock(ctx: "Context") -> None:
    """Before a refusal rests on a time: clamp future times a clock jump left (best effort, short wait)."""
    from .errors import Busy

    if ctx.db.in_transaction() or not clock.skewed(ctx.db, ctx.now):
        return
    try:
        with ctx.db.write(wait=agents.CHECKIN_WAIT):
            clock.settle(ctx.db, ctx.now)
    except Busy:
        pass
