"""The shared record: the activity feed and decisions."""

from . import gc, validate

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

    from .context import Context
    from .db import Database


def log(ctx: "Context", kind: str, message: str, path: str | None = None) -> int:
    """Append to the activity feed (inside the caller's write transaction); the entry's id."""
    entry_id = insert(ctx.db, ctx.me.id, kind, message, path, ctx.now)
    gc.maybe_prune(ctx, entry_id)
    return entry_id


def insert(db: "Database", agent: str, kind: str, message: str, path: str | None, created_at: float) -> int:
    """One activity row (inside a write transaction), as any agent at any time: the spool's entries too."""
    return db.insert("INSERT INTO activity (agent, type, message, path, created_at) VALUES (?, ?, ?, ?, ?)",
                     (agent, kind, message, path, created_at))


def add_entry(ctx: "Context", kind: str, message: str, path: str | None = None) -> int:
    """`log --type T --message M [--file P]` for agents and people."""
    kind = validate.text(kind, "type")
    message = validate.text(message, "message", multiline=True)
    rel = ctx.repo_path(path) if path else None
    with ctx.db.write():
        return log(ctx, kind, message, rel)


def decide(ctx: "Context", text: str) -> int:
    text = validate.text(text, "decision", multiline=True)
    with ctx.db.write():
        decision_id = ctx.db.insert("INSERT INTO decisions (agent, text, created_at) VALUES (?, ?, ?)",
                                    (ctx.me.id, text, ctx.now))
        log(ctx, "decision", text[:200])
    return decision_id


def decisions(ctx: "Context", limit: int | None = None) -> "list[sqlite3.Row]":
    sql = """SELECT d.*, COALESCE(a.name, d.agent) AS agent_name FROM decisions d
             LEFT JOIN agents a ON a.id = d.agent ORDER BY d.id DESC"""
    if limit:
        sql += f" LIMIT {int(limit)}"
    return ctx.db.all(sql)


def recent(ctx: "Context", limit: int = 20, after_id: int = 0) -> "list[sqlite3.Row]":
    return ctx.db.all(
        """SELECT v.*, COALESCE(a.name, v.agent) AS agent_name FROM activity v
           LEFT JOIN agents a ON a.id = v.agent WHERE v.id > ? ORDER BY v.id DESC LIMIT ?""",
        (after_id, limit),
    )
