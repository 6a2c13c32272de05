"""`agent-sync migrate`: copy the local SQLite store's live work into an empty etcd namespace.

Copied through the Store interface, each object as the agent that owns it,
so the etcd store's own rules make every key: open, in-progress and blocked
tasks (in id order, dependencies kept; ids may change and are reported),
live locks (the time they have left; new fencing tokens, which is what a new
engine means), and every agent's unread messages (one directed copy per
reader, from the same sender). Agents come along as they check in. Done
tasks, old messages, decisions and the activity log stay in the SQLite file.
"""

import time

from . import lockspec, tasks
from .context import Context
from .errors import Conflict
from .identity import Identity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .backend import Backend

KEPT_STATES = (tasks.IN_PROGRESS, tasks.OPEN, tasks.BLOCKED)
OPERATOR = "operator"


class _Side:
    """One Context per agent on one store, opened on first use."""

    def __init__(self, root: str, choice: "Backend") -> None:
        self.root, self.choice = root, choice
        self.contexts: dict[str | None, Context] = {}

    def as_agent(self, agent_id: str | None) -> Context:
        ctx = self.contexts.get(agent_id)
        if ctx is None:
            me = Identity(agent_id or OPERATOR, "migrate")
            ctx = Context(root=self.root, me=me, allow_operator=True, backend_choice=self.choice)
            self.contexts[agent_id] = ctx
        return ctx

    def close(self) -> None:
        for ctx in self.contexts.values():
            ctx.close()


def to_etcd(root: str, choice: "Backend") -> dict:
    """Copy into `choice`'s namespace. Conflict when it holds any key already. Returns counts and the id map."""
    from .backend import Backend, SQLITE

    client = choice.client()
    try:
        found = client.range(choice.prefix(root), prefix=True, count_only=True).count
    finally:
        client.close()
    if found:
        raise Conflict(f"namespace {choice.namespace(root)} already holds {found} keys: migrate only into a "
                       "fresh one (set another \"namespace\" in .claude/agent-sync.json)")
    src, dst = _Side(root, Backend(SQLITE, "migrate")), _Side(root, choice)
    try:
        return _copy(src, dst)
    finally:
        src.close()
        dst.close()


def _copy(src: _Side, dst: _Side) -> dict:
    reader = src.as_agent(OPERATOR)
    now = time.time()
    agents = [a for a in reader.store.agents() if a["status"] != "offline" and a["id"] != OPERATOR]
    for row in agents:
        dst.as_agent(row["id"]).store.check_in()
        if row["name"] and row["name"] != row["id"]:
            dst.as_agent(row["id"]).store.register(row["name"], row["role"])
    task_ids: dict[int, int] = {}
    moved = 0
    rows = sorted(reader.store.tasks(states=KEPT_STATES), key=lambda r: r["id"])
    for row in rows:
        deps = [task_ids[d] for d in _deps(reader, row["id"]) if d in task_ids]
        creator = dst.as_agent(row["created_by"] or OPERATOR)
        creator.store.check_in()
        made = creator.store.create_task(row["title"], row["description"] or "", reader.store.task_files(row["id"]),
                                         row["priority"], [str(d) for d in deps])
        new_id = made["id"]
        task_ids[row["id"]] = new_id
        if row["status"] == tasks.IN_PROGRESS and row["owner"]:
            dst.as_agent(row["owner"]).store.claim(str(new_id))
        elif row["status"] == tasks.BLOCKED:
            dst.as_agent(row["owner"] or row["created_by"] or OPERATOR).store.block(
                str(new_id), row["block_reason"] or "blocked", force=True)
        moved += 1
    locks = 0
    by_owner: dict[str, list] = {}
    for row in reader.store.locks():
        if row["expires_at"] > now:
            by_owner.setdefault(row["owner"], []).append(row)
    for owner, rows in by_owner.items():
        ctx = dst.as_agent(owner)
        for row in rows:  # one call per lock: each keeps its own time left, reason and mode
            spec = lockspec.Spec(row["key"], row["path"], row["kind"])
            ctx.store.acquire([spec], reason=row["reason"] or "", ttl=max(1.0, row["expires_at"] - now),
                              mode=row["mode"], task_id=task_ids.get(row["task_id"]))
            locks += 1
    messages = 0
    for row in agents:
        for message in src.as_agent(row["id"]).store.pending():
            sender = dst.as_agent(message["sender"])
            sender.store.check_in()
            sender.store.send(row["id"], message["body"], kind=message["kind"])
            messages += 1
    return {"tasks": moved, "locks": locks, "messages": messages, "agents": len(agents), "task_ids": task_ids}


def _deps(reader: Context, task_id: int) -> list[int]:
    return [r["depends_on"] for r in reader.db.all("SELECT depends_on FROM task_deps WHERE task_id = ?", (task_id,))]
