"""Automatic leases: an agent's edit holds the file for it, without a `lock`.

A lease is a row of `locks` with auto_lease = 1: exclusive, on one file, with
the TTL AGENT_SYNC_AUTO_LEASE (default 10m). So everything that enforces locks
enforces leases: the hooks and their lock index, `lock`, the wait queue, the
commit guard, presence (a stale holder holds nothing). The post-tool hook
takes or renews it, in the transaction that logs the edit: taking it there
costs the allowed edit's pre-tool hook nothing, and only an edit that really
happened holds a file. Leases go at session end, when the task they were
taken for finishes (they carry its id), on `unlock`, or when they lapse.
"""

from . import journal, locks, lockspec

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

    from .context import Context
    from .lockspec import Spec


def after_edit(ctx: "Context", spec: "Spec", covered_by_lock: int) -> "list[tuple[Spec, sqlite3.Row]]":
    """Inside a write transaction: take or renew the caller's lease on a file it just edited.

    Returns the (spec, lock) pairs of other agents who hold the file; then no
    lease is taken: their lease or lock came first.
    """
    if ctx.auto_lease is None or spec.kind != lockspec.FILE or covered_by_lock:
        return []
    held = locks.blockers(ctx, [spec])
    if held:
        return held
    task_id = ctx.db.scalar("SELECT current_task FROM agents WHERE id = ?", (ctx.me.id,))
    mine = ctx.db.one("SELECT id, auto_lease, expires_at FROM locks WHERE key = ? AND owner = ?",
                      (spec.key, ctx.me.id))
    if mine is not None and mine["auto_lease"] and mine["expires_at"] > ctx.now:
        ctx.db.execute("UPDATE locks SET expires_at = ?, ttl = ?, task_id = ? WHERE id = ?",
                       (ctx.now + ctx.auto_lease, ctx.auto_lease, task_id, mine["id"]))
    else:
        if mine is not None:  # an expired row of ours on this file: the lease replaces it
            ctx.db.execute("DELETE FROM locks WHERE id = ?", (mine["id"],))
        locks.void_abandoned(ctx, [spec])
        ctx.db.execute(
            "INSERT INTO locks (key, path, kind, mode, owner, reason, task_id, token, ttl, created_at, expires_at,"
            " auto_lease) VALUES (?, ?, ?, 'exclusive', ?, '', ?, ?, ?, ?, ?, 1)",
            (spec.key, spec.path, spec.kind, ctx.me.id, task_id, locks.next_token(ctx, spec.key), ctx.auto_lease,
             ctx.now, ctx.now + ctx.auto_lease),
        )
        journal.log(ctx, "lock", f"automatic lease on {spec.path}", spec.path)
    ctx.db.locks_changed()
    return []


def release_all(ctx: "Context", why: str) -> int:
    """Drop every automatic lease the caller holds (its session ended)."""
    with ctx.db.write():
        count = ctx.db.execute("DELETE FROM locks WHERE owner = ? AND auto_lease = 1", (ctx.me.id,)).rowcount
        if count:
            journal.log(ctx, "lock", f"released {count} automatic lease(s): {why}")
            ctx.db.locks_changed(removed=True)
    return count
