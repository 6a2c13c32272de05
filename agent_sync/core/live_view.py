"""A bounded picture of the coordination layer for live views (the console and `watch`).

Every list is capped, or bounded by live state (agents, unexpired locks), so a
snapshot costs the same however long the history grows.
"""

from . import documents, tasks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypedDict

    from .context import Context
    from .documents import AgentDoc, LockDoc, TaskDoc

    class LiveAgentDoc(AgentDoc):
        task_title: str | None
        seen_ago: float  # seconds since the agent was last seen

    class BoardDoc(TypedDict):
        counts: dict[str, int]
        tasks: dict[str, list[TaskDoc]]

    class LiveDoc(TypedDict):
        agents: list[LiveAgentDoc]
        locks: list[LockDoc]
        board: BoardDoc | None

TASK_STATES = (tasks.IN_PROGRESS, tasks.OPEN, tasks.BLOCKED, tasks.DONE)
TASK_CAP = 12


def data_version(ctx: "Context") -> int:
    """A value that changes whenever anyone commits."""
    return ctx.store.version()


def agent_docs(ctx: "Context") -> "list[LiveAgentDoc]":
    """Every known agent (the operator last), with its task title and seconds since last seen."""
    out: "list[LiveAgentDoc]" = []
    for row in ctx.store.agents():
        doc: "LiveAgentDoc" = {**documents.agent(row), "task_title": row["task_title"],
                               "seen_ago": max(0.0, ctx.now - row["last_seen"])}
        out.append(doc)
    return out


def lock_docs(ctx: "Context") -> "list[LockDoc]":
    return [documents.lock(row, ctx.now) for row in ctx.store.locks()]


def task_board(ctx: "Context", cap: int = TASK_CAP) -> "BoardDoc":
    """Task counts by state, and the first `cap` tasks of each state worth showing."""
    counts = ctx.store.task_counts()
    board = {state: [documents.task(row) for row in ctx.store.task_board(state, cap)] for state in TASK_STATES}
    return {"counts": {s: counts.get(s, 0) for s in (*TASK_STATES, tasks.CANCELLED)}, "tasks": board}


def take(ctx: "Context", cap: int = TASK_CAP, board: bool = True) -> "LiveDoc":
    """Agents, locks and (unless `board` is false) the task board, read in one snapshot."""
    with ctx.store.snapshot():
        return {"agents": agent_docs(ctx), "locks": lock_docs(ctx),
                "board": task_board(ctx, cap) if board else None}
