"""A bounded picture of the coordination layer for live views (the console and `watch`).

Every list is capped, or bounded by live state (agents, unexpired locks), so a
snapshot costs the same however long the history grows.
"""

from . import agents, documents, locks, tasks

TASK_STATES = (tasks.IN_PROGRESS, tasks.OPEN, tasks.BLOCKED, tasks.DONE)
TASK_CAP = 12

BOARD_SQL = """SELECT t.*, a.name AS owner_name FROM tasks t LEFT JOIN agents a ON a.id = t.owner
    WHERE t.status = ? ORDER BY {order} LIMIT ?"""
COUNT_SQL = "SELECT status, COUNT(*) AS n FROM tasks GROUP BY status"


def data_version(ctx):
    """A number that changes whenever another connection commits to the database."""
    return ctx.db.scalar("PRAGMA data_version")


def agent_docs(ctx):
    """Every known agent (the operator last), with its task title and seconds since last seen."""
    out = []
    for row in agents.listing(ctx):
        doc = documents.agent(row)
        doc["task_title"] = row["task_title"]
        doc["seen_ago"] = max(0.0, ctx.now - row["last_seen"])
        out.append(doc)
    return out


def lock_docs(ctx):
    return [documents.lock(row, ctx.now) for row in locks.listing(ctx)]


def task_board(ctx, cap=TASK_CAP):
    """Task counts by state, and the first `cap` tasks of each state worth showing."""
    counts = {row["status"]: row["n"] for row in ctx.db.all(COUNT_SQL)}
    board = {}
    for state in TASK_STATES:
        order = "t.id DESC" if state == tasks.DONE else "t.priority DESC, t.id"
        board[state] = [documents.task(row) for row in ctx.db.all(BOARD_SQL.format(order=order), (state, cap))]
    return {"counts": {s: counts.get(s, 0) for s in (*TASK_STATES, tasks.CANCELLED)}, "tasks": board}


def take(ctx, cap=TASK_CAP, board=True):
    """Agents, locks and (unless `board` is false) the task board, read in one snapshot."""
    with ctx.db.read():
        return {"agents": agent_docs(ctx), "locks": lock_docs(ctx),
                "board": task_board(ctx, cap) if board else None}
