"""Plain dicts for every object: the one shape behind --json, MCP and the console.

JSON documents carry {"version": JSON_VERSION, "kind": ...}; a change that
removes or renames a key bumps the version.
"""

from . import tasks
from .clock import iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TypedDict

    from .context import Context
    from .store import Row, Store

    # The shapes, for the type checker (at run time they are plain dicts). A value from
    # the database keeps its column's SQL type; `iso` times are None only for a NULL.
    class AgentDoc(TypedDict):
        id: str
        name: str
        role: str
        kind: str
        status: str
        current_task: int | None
        last_seen: str | None
        cwd: str | None

    class _TaskFields(TypedDict):
        id: int
        title: str
        description: str
        status: str
        priority: int
        owner: str | None
        owner_name: str | None
        block_reason: str | None
        created_by: str | None
        created_at: str | None
        updated_at: str | None

    class TaskDoc(_TaskFields, total=False):
        files: list[str]

    class LockDoc(TypedDict):
        path: str
        kind: str
        mode: str
        owner: str
        owner_name: str
        owner_status: str
        reason: str
        task_id: int | None
        token: int
        created_at: str | None
        expires_at: str | None
        expires_in: int
        enforced: bool
        auto_lease: bool
        last_edit_at: str | None

    MessageDoc = TypedDict("MessageDoc", {  # "from" is a keyword: the functional form
        "id": int, "from": str, "from_name": str, "to": str, "kind": str, "body": str,
        "reply_to": int | None, "sent_at": str | None,
    })

    class DecisionDoc(TypedDict):
        id: int
        agent: str
        agent_name: str
        text: str
        created_at: str | None

    class ActivityDoc(TypedDict):
        id: int
        agent: str
        agent_name: str
        type: str
        message: str
        path: str | None
        at: str | None

    class WhoamiDoc(TypedDict):
        version: int
        kind: str
        id: str
        source: str
        session: str | None
        root: str
        agent: AgentDoc | None

    class StatusDoc(TypedDict):
        version: int
        kind: str
        me: str
        backend: dict[str, str]
        agents: list[AgentDoc]
        task_counts: dict[str, int]
        tasks: list[TaskDoc]
        locks: list[LockDoc]
        unread: int
        decisions: list[DecisionDoc]
        activity: list[ActivityDoc]

JSON_VERSION = 1
STATUS_LIST_CAP = 10


def document(kind: str, **body: object) -> dict[str, object]:
    return {"version": JSON_VERSION, "kind": kind, **body}


def agent(row: "Row") -> "AgentDoc":
    return {
        "id": row["id"], "name": row["name"], "role": row["role"], "kind": row["kind"],
        "status": row["status"], "current_task": row["current_task"],
        "last_seen": iso(row["last_seen"]), "cwd": row["cwd"],
    }


def task(row: "Row", files: list[str] | None = None) -> "TaskDoc":
    out: "TaskDoc" = {
        "id": row["id"], "title": row["title"], "description": row["description"], "status": row["status"],
        "priority": row["priority"], "owner": row["owner"], "owner_name": row["owner_name"],
        "block_reason": row["block_reason"], "created_by": row["created_by"],
        "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]),
    }
    if files is not None:
        out["files"] = files
    return out


def lock(row: "Row", now: float) -> "LockDoc":
    expires = min(row["expires_at"], now + row["ttl"])  # never later than its TTL allows from now (clock jumps)
    return {
        "path": row["path"], "kind": row["kind"], "mode": row["mode"], "owner": row["owner"],
        "owner_name": row["owner_name"], "owner_status": row["owner_status"], "reason": row["reason"],
        "task_id": row["task_id"], "token": row["token"], "created_at": iso(min(row["created_at"], now)),
        "expires_at": iso(expires), "expires_in": max(0, round(expires - now)),
        "enforced": bool(row["enforced"]) and expires > now,
        "auto_lease": bool(row["auto_lease"]),
        "last_edit_at": iso(expires - row["ttl"]) if row["auto_lease"] else None,
    }


def message(row: "Row") -> "MessageDoc":
    return {
        "id": row["id"], "from": row["sender"], "from_name": row["sender_name"], "to": row["recipient"],
        "kind": row["kind"], "body": row["body"], "reply_to": row["reply_to"], "sent_at": iso(row["created_at"]),
    }


def decision(row: "Row") -> "DecisionDoc":
    return {"id": row["id"], "agent": row["agent"], "agent_name": row["agent_name"], "text": row["text"],
            "created_at": iso(row["created_at"])}


def activity(row: "Row") -> "ActivityDoc":
    return {"id": row["id"], "agent": row["agent"], "agent_name": row["agent_name"], "type": row["type"],
            "message": row["message"], "path": row["path"], "at": iso(row["created_at"])}


def whoami(ctx: "Context") -> "WhoamiDoc":
    row = ctx.store.agent(ctx.me.id)
    # document()'s envelope, spelled out so the type checker knows the shape
    return {"version": JSON_VERSION, "kind": "whoami", "id": ctx.me.id, "source": ctx.me.source,
            "session": ctx.me.session, "root": ctx.root, "agent": agent(row) if row else None}


def status(ctx: "Context") -> "StatusDoc":
    """Everything `status` shows, with every list bounded (cost independent of history)."""
    store = ctx.store
    with store.snapshot():
        counts = store.task_counts()
        return {  # document()'s envelope, spelled out so the type checker knows the shape
            "version": JSON_VERSION,
            "kind": "status",
            "me": ctx.me.id,
            "backend": {"kind": store.backend, "location": str(store.location)},
            "agents": [agent(r) for r in store.agents() if r["status"] != "offline"],
            "task_counts": {s: counts.get(s, 0) for s in tasks.STATES},
            "tasks": [task(r) for r in _status_tasks(store)],
            "locks": [lock(r, ctx.now) for r in store.locks()],
            "unread": len(store.pending()),
            "decisions": [decision(r) for r in store.decisions(limit=5)],
            "activity": [activity(r) for r in store.recent_activity(limit=STATUS_LIST_CAP)],
        }


def _status_tasks(store: "Store") -> "list[Row]":
    """In-progress tasks, then the best open and the blocked ones, capped."""
    rows = list(store.tasks(states=(tasks.IN_PROGRESS,)))
    for state in (tasks.OPEN, tasks.BLOCKED):
        rows += store.task_board(state, STATUS_LIST_CAP)
    return rows
