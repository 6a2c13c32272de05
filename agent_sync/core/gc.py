"""Housekeeping: expired locks, decayed presence, and bounded history."""

from . import clock, config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .context import Context

AUTO_EVERY = 500  # activity rows between automatic history prunes


def collect(ctx: "Context") -> dict[str, int]:
    """Full pass (the `gc` command and session start). Returns what it removed."""
    with ctx.db.write():
        counts = {"clock_settled": clock.settle(ctx.db, ctx.now)}
        counts["expired_locks"] = ctx.db.execute("DELETE FROM locks WHERE expires_at <= ?", (ctx.now,)).rowcount
        if counts["expired_locks"]:
            ctx.db.locks_changed(removed=True)
        counts["went_offline"] = ctx.db.execute(
            "UPDATE agents SET state = 'offline' WHERE state != 'offline' AND last_seen < ?",
            (ctx.now - ctx.offline_after,),
        ).rowcount
        counts["stale_waiters"] = ctx.db.execute(
            "DELETE FROM lock_waiters WHERE polled_at < ?", (ctx.now - 60,)
        ).rowcount
        counts.update(prune_history(ctx))
        counts["forgotten_agents"] = _forget_agents(ctx)
    counts["subagent_links"] = _prune_subagent_links(ctx)
    return counts


def prune_history(ctx: "Context") -> dict[str, int]:
    """Keep activity and messages within the retention window and row caps."""
    cutoff = ctx.now - config.duration("AGENT_SYNC_RETENTION")
    removed: dict[str, int] = {}
    for table, cap in (("activity", "AGENT_SYNC_KEEP_ACTIVITY"), ("messages", "AGENT_SYNC_KEEP_MESSAGES")):
        newest = ctx.db.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        # Two statements, so each uses its index (time, rowid) instead of a full scan.
        removed[table] = ctx.db.execute(f"DELETE FROM {table} WHERE created_at < ?", (cutoff,)).rowcount
        removed[table] += ctx.db.execute(
            f"DELETE FROM {table} WHERE id <= ?", (newest - config.count(cap),)
        ).rowcount
    return removed


def maybe_prune(ctx: "Context", activity_id: int) -> None:
    """The cheap automatic pass: every AUTO_EVERY activity rows, trim history."""
    if activity_id % AUTO_EVERY == 0:
        prune_history(ctx)


def _prune_subagent_links(ctx: "Context") -> int:
    """Files mapping a subagent's session to its parent's (core.identity), past the retention window."""
    import os

    from . import identity, repo

    folder = os.path.join(repo.state_dir(ctx.root), identity.SUBAGENTS_DIR)
    cutoff = ctx.now - config.duration("AGENT_SYNC_RETENTION")
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.stat().st_mtime < cutoff:
                os.remove(entry.path)
                removed += 1
        except OSError:
            pass
    return removed


def _forget_agents(ctx: "Context") -> int:
    """Offline agents past the retention window that hold nothing are removed."""
    from .tasks import IN_PROGRESS  # tasks imports journal, which imports this module

    cutoff = ctx.now - config.duration("AGENT_SYNC_RETENTION")
    return ctx.db.execute(
        """DELETE FROM agents WHERE kind = 'agent' AND last_seen < :cutoff
              AND NOT EXISTS (SELECT 1 FROM locks l WHERE l.owner = agents.id)
              AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.owner = agents.id AND t.status = :in_progress)""",
        {"cutoff": cutoff, "in_progress": IN_PROGRESS},
    ).rowcount

