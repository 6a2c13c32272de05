"""Plain dicts for every object: the one shape behind --json, MCP and the console.

JSON documents carry {"version": JSON_VERSION, "kind": ...}; a change that
removes or renames a key bumps the version.
"""

import time

from . import tasks

JSON_VERSION = 1
STATUS_LIST_CAP = 10


def iso(ts):
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def document(kind, **body):
    return {"version": JSON_VERSION, "kind": kind, **body}


def agent(row):
    return {
        "id": row["id"], "name": row["name"], "role": row["role"], "kind": row["kind"],
        "status": row["status"], "current_task": row["current_task"],
        "last_seen": iso(row["last_seen"]), "cwd": row["cwd"],
    }


def task(row, files=None):
    out = {
        "id": row["id"], "title": row["title"], "description": row["description"], "status": row["status"],
        "priority": row["priority"], "owner": row["owner"], "owner_name": row["owner_name"],
        "block_reason": row["block_reason"], "created_by": row["created_by"],
        "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]),
    }
    if files is not None:
        out["files"] = files
    return out


def lock(row, now):
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


def message(row):
    return {
        "id": row["id"], "from": row["sender"], "from_name": row["sender_name"], "to": row["recipient"],
        "kind": row["kind"], "body": row["body"], "reply_to": row["reply_to"], "sent_at": iso(row["created_at"]),
    }


def decision(row):
    return {"id": row["id"], "agent": row["agent"], "agent_name": row["agent_name"], "text": row["text"],
            "created_at": iso(row["created_at"])}


def activity(row):
    return {"id": row["id"], "agent": row["agent"], "agent_name": row["agent_name"], "type": row["type"],
            "message": row["message"], "path": row["path"], "at": iso(row["created_at"])}


def whoami(ctx):
    row = ctx.store.agent(ctx.me.id)
    return document("whoami", id=ctx.me.id, source=ctx.me.source, session=ctx.me.session,
                    root=ctx.root, agent=agent(row) if row else None)


def status(ctx):
    """Everything `status` shows, with every list bounded (cost independent of history)."""
    store = ctx.store
    with store.snapshot():
        counts = store.task_counts()
        return document(
            "status",
            me=ctx.me.id,
            agents=[agent(r) for r in store.agents() if r["status"] != "offline"],
            task_counts={s: counts.get(s, 0) for s in tasks.STATES},
            tasks=[task(r) for r in _status_tasks(store)],
            locks=[lock(r, ctx.now) for r in store.locks()],
            unread=len(store.pending()),
            decisions=[decision(r) for r in store.decisions(limit=5)],
            activity=[activity(r) for r in store.recent_activity(limit=STATUS_LIST_CAP)],
        )


def _status_tasks(store):
    """In-progress tasks, then the best open and the blocked ones, capped."""
    rows = list(store.tasks(states=(tasks.IN_PROGRESS,)))
    for state in (tasks.OPEN, tasks.BLOCKED):
        rows += store.task_board(state, STATUS_LIST_CAP)
    return rows
