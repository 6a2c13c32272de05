"""Locks: grant, renew, release and explain, all in short write transactions."""


from . import agents, clock, journal, lazy, lockspec, sanitize, validate
from .durations import format_duration
from .errors import Conflict, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import suggest, waitqueue
else:  # only a refusal prints a command, and only `lock` consults the wait queue
    lazy.modules("agent_sync.core", "suggest waitqueue", globals())
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Sequence
    from typing import TypeVar

    from .context import Context
    from .lockspec import Spec
    from .store import Clash, Row

    R = TypeVar("R", bound=Row)  # a lock row: sqlite3.Row here, a dict in the etcd store

LOCK_COLUMNS = ("l.id, l.key, l.path, l.kind, l.mode, l.owner, l.reason, l.task_id, l.token, l.ttl, l.created_at,"
                " l.expires_at, l.auto_lease")


def _live_by_others(ctx: "Context", holding_only: bool = True,
                    file_keys: list[str] | None = None) -> "list[sqlite3.Row]":
    """Unexpired locks of other agents, with their owner's name and presence.

    An agent with automatic leases off (AGENT_SYNC_AUTO_LEASE=off) does not see
    other agents' leases. With `file_keys`, only the locks that could cover
    those files: the same key, or a directory, pattern or resource lock.
    """
    hold = f"AND {agents.holds_sql('a')}" if holding_only else ""
    leases = "" if ctx.auto_lease else "AND l.auto_lease = 0"
    params = dict(ctx.presence(), now=ctx.now, me=ctx.me.id)
    narrow = ""
    if file_keys is not None:
        params.update({f"k{i}": key for i, key in enumerate(file_keys)})
        narrow = f"AND (l.kind != 'file' OR l.key IN ({', '.join(f':k{i}' for i in range(len(file_keys)))}))"
    return ctx.db.all(
        f"""SELECT {LOCK_COLUMNS}, a.name AS owner_name, {agents.status_sql('a')} AS owner_status
            FROM locks l JOIN agents a ON a.id = l.owner
            WHERE l.expires_at > :now AND l.owner != :me {hold} {leases} {narrow}""",
        params,
    )


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
        raise Conflict(explain(ctx, clashes))
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
                  AND (l.expires_at <= :now OR NOT {agents.holds_sql('a')})""",
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
        f"""SELECT {LOCK_COLUMNS}, a.name AS owner_name, {agents.status_sql('a')} AS owner_status,
                   {agents.holds_sql('a')} AS enforced
            FROM locks l JOIN agents a ON a.id = l.owner
            WHERE {' AND '.join(where)} ORDER BY l.path, l.id""",
        params,
    )


def blockers(ctx: "Context", specs: "Sequence[Spec]") -> "list[tuple[Spec, sqlite3.Row]]":
    """Locks that stop the caller editing any of `specs` (the hook's question)."""
    if not specs:
        return []
    _settle_clock(ctx)
    files = [s.key for s in specs if s.kind == lockspec.FILE]
    others = _live_by_others(ctx, file_keys=files if len(files) == len(specs) else None)
    if not others:
        return []
    mine = ctx.db.all("SELECT key, kind FROM locks WHERE owner = ? AND expires_at > ?", (ctx.me.id, ctx.now))
    return blocking(specs, others, mine)


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


def blocking(specs: "Iterable[Spec]", others: "Sequence[R]", mine: "Sequence[Row]") -> "list[tuple[Spec, R]]":
    """[(spec, row)]: others' live locks that cover specs, unless shared and the caller shares them too."""
    found: "list[tuple[Spec, R]]" = []
    for spec in specs:
        covering = [r for r in others if lockspec.overlaps(spec.key, spec.kind, r["key"], r["kind"])]
        if not covering:
            continue
        shared_only = all(r["mode"] == "shared" for r in covering)
        if shared_only and any(lockspec.overlaps(spec.key, spec.kind, m["key"], m["kind"]) for m in mine):
            continue
        found.extend((spec, r) for r in covering)
    return found


def explain(ctx: "Context", clashes: "Iterable[Clash]") -> str:
    """One line per clash: what, who, why, until when, and how to reach them.

    Every agent-written value (paths, the owner's name, the reason) is a quoted
    value, so none can read as our words, and the ready `send` command is built
    by core.suggest, so none can run as shell code.
    """
    lines = []
    for spec, row in clashes:
        if row["auto_lease"]:
            lines.append(_lease_clash(ctx, spec, row))
            continue
        left = format_duration(row["expires_at"] - ctx.now)
        until = _clock(row["expires_at"], ctx.now)
        why = _shown(row["reason"]) if row["reason"] else "no reason given"
        path, held = _shown(spec.path), _shown(row["path"])
        shared = " (shared)" if row["mode"] == "shared" else ""
        if spec.key == row["key"]:
            what = f"{path} is locked{shared}"
        elif spec.kind == lockspec.FILE:
            what = f"{path} (covered by {held}) is locked{shared}"
        else:  # a pattern or directory: name both locks, since neither need contain the other
            what = f"{path} overlaps {held}, which is locked{shared}"
        ask = _ask(row, f"please release {row['path']}", "please release the lock that blocks me")
        lines.append(f"{what} by {_shown(row['owner_name'])} [{row['owner']}] - reason: {why}"
                     f" - expires in {left} ({until}). Ask them: {ask}")
    return "\n".join(lines)


def _lease_clash(ctx: "Context", spec: "Spec", row: "Row") -> str:
    """The refusal for a file another agent holds only because it edited it (an automatic lease)."""
    path, held = _shown(spec.path), _shown(row["path"])
    what = f"{path} is" if spec.key == row["key"] else f"{path} covers {held}, which is"
    edited = row["expires_at"] - row["ttl"]
    ask = _ask(row, f"I need to edit {row['path']}; tell me when you are done with it",
               "I need to edit a file you hold under an automatic lease; tell me when you are done with it")
    return (f"{what} under an automatic lease of {_shown(row['owner_name'])} [{row['owner']}]: they last edited it "
            f"{format_duration(ctx.now - edited)} ago ({_clock(edited, ctx.now)}), and the lease lapses in "
            f"{format_duration(row['expires_at'] - ctx.now)} ({_clock(row['expires_at'], ctx.now)}) unless they "
            f"edit it again. Ask them: {ask}")


def _ask(row: "Row", text: str, plain: str) -> str:
    """The `send` command to the lock's owner; `plain` (no agent text) when `text` cannot be printed safely."""
    return suggest.command_or({"to": row["owner"], "message": plain}, "send", to=row["owner"], message=text)


def _clock(ts: float, now: float) -> str:
    return f"{clock.shown(ts, now)} UTC"


def _shown(text: str | None) -> str:
    return sanitize.quote(text, 300)

