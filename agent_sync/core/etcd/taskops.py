"""The task board on etcd; the state rules are core.tasks'.

A task is one key, P/tasks/<id>, holding its row, files and dependencies;
the owner field is the claim. Every board write reads P/tasks/ (and P/locks/
when files matter) at R and commits only if nothing there changed since, so
two claims of one task, or two claim-next calls, never both win. Ids come
from P/seq/tasks in the creating txn.
"""

from typing import TYPE_CHECKING, Any

from .. import lockspec, locks, tasks, validate
from ..errors import NotFound
from . import journalops, lockops
from .engine import Plan, View, read, transact
from .keys import loads


class Board:
    """The tasks of one view, with the locks, agents and presence around them."""

    def __init__(self, store: "EtcdStore", view: View):
        self.store, self.view = store, view
        self.seen = lockops.Seen(store, view)
        keys = store.keys
        self.kvs = {loads(kv.value)["id"]: kv for kv in view.under(keys.tasks)}
        self.values = {tid: loads(kv.value) for tid, kv in self.kvs.items()}

    def row(self, task_id: int) -> Any:
        """core.tasks.get: the row with owner_name and owner_holds; NotFound otherwise."""
        value = self.values.get(task_id)
        if value is None:
            raise NotFound(f"no task #{task_id}")
        return self.decorate(value)

    def decorate(self, value: Any) -> Any:
        row = {k: v for k, v in value.items() if k not in ("files", "deps")}
        owner = self.seen.agents.get(row["owner"]) if row["owner"] else None
        row["owner_name"] = owner["name"] if owner else None
        row["owner_holds"] = bool(row["owner"]) and self.seen.holds(row["owner"])
        return row

    def find(self, ref: Any) -> Any:
        number = tasks.task_number(ref)
        if number is not None:
            return self.row(number)
        text = str(ref).strip()
        key = validate.key(text)
        rows = sorted((v for v in self.values.values() if v["title_key"] == key), key=lambda v: v["id"])
        return self.row(tasks.pick_by_title(text, rows))

    def unmet(self, task_id: int) -> Any:
        deps = []
        for dep in sorted(self.values[task_id]["deps"]):
            other = self.values.get(dep)
            if other is not None and other["status"] != tasks.DONE:
                deps.append({"id": dep, "title": other["title"], "status": other["status"]})
        return deps

    def files(self, task_id: int) -> Any:
        return sorted(self.values[task_id]["files"])

    def put(self, plan: Plan, value: Any) -> Any:
        value = dict(value, updated_at=self.store.ctx.now)
        self.values[value["id"]] = value
        plan.put(self.store.keys.task(value["id"]), value)

    def set_current(self, plan: Plan, agent_id: str, task_id: int | None, only_if: Any = None) -> Any:
        """The agent's current_task = task_id (when it is `only_if`, if given)."""
        keys = self.store.keys
        agent = self.seen.agents.get(agent_id)
        if agent is None or (only_if is not None and agent.get("current_task") != only_if):
            return
        plan.put(keys.agent(agent_id), dict(agent, current_task=task_id))
        plan.same(keys.agent(agent_id), self.view.one(keys.agent(agent_id)))

    def release_task(self, plan: Plan, task_id: int) -> Any:
        """core.locks.release_task: drop the locks taken for the task."""
        for row in self.seen.rows:
            if row["task_id"] == task_id:
                plan.delete(self.store.keys.lock(row["key"], row["owner"]))


def reads(store: "EtcdStore", with_locks: Any = True) -> Any:
    keys = store.keys
    watch = [keys.tasks] + ([keys.locks, keys.waiters] if with_locks else [])
    return watch, [keys.agents, keys.presences]


def board(store: "EtcdStore") -> Any:
    return Board(store, read(store, [store.keys.tasks, store.keys.locks, store.keys.agents, store.keys.presences],
                             revision=store.pinned))


def create(store: "EtcdStore", title: str, description: str = "", files: Any = (), priority: int = 0,
           depends_on: Any = ()) -> Any:
    ctx, keys = store.ctx, store.keys
    title, description, paths = tasks.check_new(ctx, title, description, files)

    def decide(view):
        b = Board(store, view)
        deps = list(dict.fromkeys(b.find(ref)["id"] for ref in depends_on))
        seq = view.one(keys.seq("tasks"))
        task_id = (loads(seq.value) if seq else 0) + 1
        plan = Plan(task_id)
        plan.put(keys.seq("tasks"), str(task_id))
        plan.same(keys.seq("tasks"), seq)
        b.put(plan, {"id": task_id, "title": title, "title_key": validate.key(title), "description": description,
                     "status": tasks.OPEN, "priority": priority, "owner": None, "created_by": ctx.me.id,
                     "block_reason": None, "created_at": ctx.now, "files": paths, "deps": deps})
        journalops.log(store, plan, "task", f"created #{task_id} {title}")
        return plan

    task_id = transact(store, [keys.tasks], decide, [keys.seq("tasks"), keys.agents, keys.presences])
    return get(store, task_id)


def get(store: "EtcdStore", task_id: int) -> Any:
    return board(store).row(task_id)


def _take(store, b, plan, task, lock, ttl, leases):
    """core.tasks._take on a view: the caller owns the task, with its files locked if asked."""
    ctx = store.ctx
    if lock:
        specs = [lockspec.from_repo_path(ctx, p) for p in b.files(task["id"])]
        if specs:
            if "id" not in leases:
                leases["id"] = lockops.grant_lease(store, ttl)
            lockops.grant(store, b.seen, plan, specs, f"task #{task['id']}", ttl, "exclusive", task["id"],
                          leases["id"])
    if task["owner"] not in (None, ctx.me.id):
        b.seen.keep_presence(plan, task["owner"])  # reclaimed: only while its owner still holds nothing
    b.put(plan, dict(b.values[task["id"]], status=tasks.IN_PROGRESS, owner=ctx.me.id, block_reason=None))
    b.set_current(plan, ctx.me.id, task["id"])
    journalops.log(store, plan, "task", f"{tasks.claim_verb(ctx, task)} #{task['id']} {task['title']}")
    plan.result = task["id"]


def _claiming(store, lock, decide_on):
    leases: dict = {}
    watch, peek = reads(store, with_locks=True)
    try:
        task_id = transact(store, watch, lambda view: decide_on(Board(store, view), leases), peek)
    except BaseException:
        if "id" in leases:
            lockops.revoke(store, leases["id"])
        raise
    if lock:
        store.locks_changed()
    return get(store, task_id)


def claim(store: "EtcdStore", ref: Any, lock: bool = False, ttl: float = 3600.0) -> Any:
    def decide(b, leases):
        plan = Plan()
        task = b.find(ref)
        tasks.refuse_claim(store.ctx, task, b.unmet(task["id"]))
        _take(store, b, plan, task, lock, ttl, leases)
        return plan

    return _claiming(store, lock, decide)


def claim_next(store: "EtcdStore", lock: bool = False, ttl: float = 3600.0, explain: Any = None) -> Any:
    explain = explain or (lambda _text: None)
    ctx = store.ctx
    notes: list = []

    def decide(b, leases):
        notes.clear()  # only the attempt that decided speaks
        for task in _candidates(b):
            if b.unmet(task["id"]):
                notes.append(tasks.DEPS_NOTE.format(task["id"]))
                continue
            specs = [lockspec.from_repo_path(ctx, p) for p in b.files(task["id"])]
            clashes = locks.clashing(b.seen.others(), specs, "exclusive") if specs else []
            if clashes:
                notes.append(tasks.skip_note(task, clashes))
                continue
            plan = Plan()
            _take(store, b, plan, b.row(task["id"]), lock, ttl, leases)
            return plan
        raise NotFound(tasks.NOTHING)

    try:
        return _claiming(store, lock, decide)
    finally:
        for note in notes:
            explain(note)


def _candidates(b):
    open_rows = sorted((v for v in b.values.values() if v["status"] == tasks.OPEN),
                       key=lambda v: (-v["priority"], v["id"]))
    abandoned = [v for v in b.values.values() if v["status"] == tasks.IN_PROGRESS
                 and not (v["owner"] and b.seen.holds(v["owner"]))]
    return tasks.merged_candidates(open_rows, abandoned)


def _finish(store, ref, status, force, reason=None):
    keys = store.keys

    def decide(view):
        b = Board(store, view)
        task = b.find(ref)
        tasks.refuse_finish(store.ctx, task, force)
        plan = Plan(task["id"])
        if task["status"] == status:
            return plan
        b.put(plan, dict(b.values[task["id"]], status=status, block_reason=reason))
        if task["owner"]:
            b.set_current(plan, task["owner"], None, only_if=task["id"])
            b.release_task(plan, task["id"])
        journalops.log(store, plan, "task", tasks.finish_note(task, status, reason))
        return plan

    watch, peek = reads(store, with_locks=False)
    task_id = transact(store, watch, decide, [keys.locks, *peek])
    store.locks_changed(removed=True)
    return get(store, task_id)


def complete(store: "EtcdStore", ref: Any, force: bool = False) -> Any:
    return _finish(store, ref, tasks.DONE, force)


def block(store: "EtcdStore", ref: Any, reason: str, force: bool = False) -> Any:
    return _finish(store, ref, tasks.BLOCKED, force, validate.text(reason, "reason"))


def cancel(store: "EtcdStore", ref: Any, force: bool = False) -> Any:
    return _finish(store, ref, tasks.CANCELLED, force)


def reopen(store: "EtcdStore", ref: Any, force: bool = False) -> Any:
    keys = store.keys

    def decide(view):
        b = Board(store, view)
        task = b.find(ref)
        tasks.refuse_reopen(store.ctx, task, force)
        plan = Plan(task["id"])
        if task["owner"]:
            b.set_current(plan, task["owner"], None, only_if=task["id"])
            b.release_task(plan, task["id"])
        b.put(plan, dict(b.values[task["id"]], status=tasks.OPEN, owner=None, block_reason=None))
        journalops.log(store, plan, "task", f"reopened #{task['id']} {task['title']}")
        return plan

    watch, peek = reads(store, with_locks=False)
    task_id = transact(store, watch, decide, [keys.locks, *peek])
    store.locks_changed(removed=True)
    return get(store, task_id)


def listing(store: "EtcdStore", states: Any = None) -> Any:
    b = board(store)
    rows = [b.decorate(v) for v in b.values.values() if not states or v["status"] in states]
    return sorted(rows, key=tasks.listing_key)


def owned(store: "EtcdStore") -> Any:
    me = store.ctx.me.id
    return [{"id": v["id"], "title": v["title"]} for v in store.task_values()
            if v["owner"] == me and v["status"] == tasks.IN_PROGRESS]


def counts(store: "EtcdStore") -> Any:
    found: dict = {}
    for v in store.task_values():
        found[v["status"]] = found.get(v["status"], 0) + 1
    return found


def task_board(store: "EtcdStore", state: str, limit: int) -> Any:
    b = board(store)
    rows = [b.decorate(v) for v in b.values.values() if v["status"] == state]
    if state == tasks.DONE:
        rows.sort(key=lambda r: -r["id"])
    else:
        rows.sort(key=lambda r: (-r["priority"], r["id"]))
    return rows[:limit]


def files(store: "EtcdStore", task_id: int) -> Any:
    value = next((v for v in store.task_values() if v["id"] == task_id), None)
    return sorted(value["files"]) if value else []


if TYPE_CHECKING:
    from .store import EtcdStore
