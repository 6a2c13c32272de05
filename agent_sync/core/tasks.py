"""The task board: create, claim, complete, block, cancel, reopen."""

from . import config, journal, lazy, lockspec, presence, validate
from .sanitize import quote
from .errors import Conflict, NotFound, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import locks
else:  # claims and releases only: creating or listing tasks leaves the lock code unloaded
    lazy.modules("agent_sync.core", "locks", globals())
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from .context import Context
    from .store import Clash, Row

OPEN, IN_PROGRESS, BLOCKED, DONE, CANCELLED = "open", "in_progress", "blocked", "done", "cancelled"
STATES = (OPEN, IN_PROGRESS, BLOCKED, DONE, CANCELLED)  # the order views list them in
FINISHED = (DONE, CANCELLED)


def create(ctx: "Context", title: str, description: str = "", files: "Iterable[str]" = (), priority: int = 0,
           depends_on: "Iterable[str]" = ()) -> "sqlite3.Row":
    title, description, paths = check_new(ctx, title, description, files)
    with ctx.db.write():
        deps = [find(ctx, ref)["id"] for ref in depends_on]
        task_id = ctx.db.insert(
            "INSERT INTO tasks (title, title_key, description, priority, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (title, validate.key(title), description, priority, ctx.me.id, ctx.now, ctx.now),
        )
        for path in dict.fromkeys(paths):
            ctx.db.execute("INSERT INTO task_files (task_id, path) VALUES (?, ?)", (task_id, path))
        for dep in dict.fromkeys(deps):
            ctx.db.execute("INSERT INTO task_deps (task_id, depends_on) VALUES (?, ?)", (task_id, dep))
        journal.log(ctx, "task", f"created #{task_id} {title}")
    return get(ctx, task_id)


def get(ctx: "Context", task_id: int) -> "sqlite3.Row":
    row = ctx.db.one(
        f"""SELECT t.*, a.name AS owner_name, {presence.holds_sql('a')} AS owner_holds
            FROM tasks t LEFT JOIN agents a ON a.id = t.owner WHERE t.id = :id""",
        dict(ctx.presence(), id=task_id),
    )
    if row is None:
        raise NotFound(f"no task #{task_id}")
    return row


def find(ctx: "Context", ref: str) -> "sqlite3.Row":
    """A task by id (`12`, `#12`) or exact title (case-insensitive)."""
    number = task_number(ref)
    if number is not None:
        return get(ctx, number)
    text = str(ref).strip()
    rows = ctx.db.all("SELECT id, status FROM tasks WHERE title_key = ? ORDER BY id", (validate.key(text),))
    return get(ctx, pick_by_title(text, rows))


def files(ctx: "Context", task_id: int) -> list[str]:
    return [r["path"] for r in ctx.db.all("SELECT path FROM task_files WHERE task_id = ? ORDER BY path", (task_id,))]


def unmet_deps(ctx: "Context", task_id: int) -> "list[sqlite3.Row]":
    return ctx.db.all(
        """SELECT t.id, t.title, t.status FROM task_deps d JOIN tasks t ON t.id = d.depends_on
           WHERE d.task_id = ? AND t.status != ? ORDER BY t.id""",
        (task_id, DONE),
    )


def check_new(ctx: "Context", title: str, description: str,
              files: "Iterable[str]") -> tuple[str, str, list[str]]:
    """Validated (title, description, file paths) of a new task."""
    title = validate.text(title, "title")
    description = validate.text(description, "description", multiline=True, allow_empty=True)
    return title, description, list(dict.fromkeys(lockspec.parse(ctx, raw).path for raw in files))


def pick_by_title(text: str, rows: "Sequence[Row]") -> int:
    """The one task id among rows (id, status) with a title, or why not."""
    if not rows:
        raise NotFound(f"no task titled {text!r}")
    live = [r for r in rows if r["status"] not in FINISHED] or rows
    if len(live) > 1:
        ids = ", ".join(f"#{r['id']}" for r in live)
        raise UsageError(f"several tasks are titled {text!r} ({ids}); use the id")
    return live[0]["id"]


def task_number(ref: str) -> int | None:
    """The id in `12` / `#12`, or None for a title."""
    from .numbers import id_number

    return id_number(ref, "a task id")


def refuse_claim(ctx: "Context", task: "Row", deps: "Sequence[Row]") -> None:
    """Raise Conflict unless the caller may claim `task` (row with owner_holds); deps: its unmet ones."""
    if task["status"] in FINISHED or task["status"] == BLOCKED:
        raise Conflict(f"task #{task['id']} is {task['status']}; reopen-task it first")
    if _owned_by_other(ctx, task):
        raise Conflict(f"task #{task['id']} is owned by {quote(task['owner_name'])} [{task['owner']}], who is still active")
    if deps:
        raise Conflict(f"task #{task['id']} waits on " + ", ".join(f"#{d['id']} ({d['status']})" for d in deps))


def claim_verb(ctx: "Context", task: "Row") -> str:
    return "reclaimed" if task["owner"] not in (None, ctx.me.id) else "claimed"


def refuse_finish(ctx: "Context", task: "Row", force: bool) -> None:
    if task["owner"] not in (None, ctx.me.id) and not force:
        raise Conflict(f"task #{task['id']} is owned by {quote(task['owner_name'])} [{task['owner']}]; use --force")


def refuse_reopen(ctx: "Context", task: "Row", force: bool) -> None:
    if task["status"] == IN_PROGRESS and _owned_by_other(ctx, task) and not force:
        raise Conflict(f"task #{task['id']} is in progress with {quote(task['owner_name'])}; use --force")


def finish_note(task: "Row", status: str, reason: str | None) -> str:
    note = f": {reason}" if reason else ""
    return f"{status} #{task['id']} {task['title']}{note}"


def skip_note(task: "Row", clashes: "Iterable[Clash]") -> str:
    held = ", ".join(f"{quote(row['path'])} ({quote(row['owner_name'])} [{row['owner']}])" for _spec, row in clashes)
    return f"#{task['id']} skipped: its files overlap locks held by other agents: {held}"


DEPS_NOTE = "#{} skipped: waits on unfinished dependencies"
NOTHING = "no claimable task (open, dependencies done, files free)"


def merged_candidates(open_rows: "Iterable[Row]", abandoned: "Iterable[Row]") -> "Iterator[Row]":
    """Open tasks (already by priority desc, id) merged with abandoned ones: the claim-next order."""
    pending = sorted(((-r["priority"], r["id"]) for r in abandoned), reverse=True)
    for row in open_rows:
        while pending and pending[-1] < (-row["priority"], row["id"]):
            yield {"id": pending.pop()[1]}
        yield row
    while pending:
        yield {"id": pending.pop()[1]}


LIST_RANK = {IN_PROGRESS: 0, OPEN: 1, BLOCKED: 2}


def listing_key(row: "Row") -> tuple[int, int, int]:
    """The order `tasks` lists rows in: in progress, open, blocked, the rest; priority desc, then id."""
    return (LIST_RANK.get(row["status"], 3), -row["priority"], row["id"])


def _owned_by_other(ctx: "Context", task: "Row") -> bool:
    return task["owner"] is not None and task["owner"] != ctx.me.id and task["owner_holds"]


def _take(ctx: "Context", task: "Row", lock: bool, ttl: float) -> None:
    """Inside a write transaction: make the caller the owner, leasing files if asked."""
    if lock:
        specs = [lockspec.from_repo_path(ctx, p) for p in files(ctx, task["id"])]
        if specs:
            locks.grant(ctx, specs, f"task #{task['id']}", ttl, "exclusive", task["id"])
    ctx.db.execute(
        "UPDATE tasks SET status = ?, owner = ?, block_reason = NULL, updated_at = ? WHERE id = ?",
        (IN_PROGRESS, ctx.me.id, ctx.now, task["id"]),
    )
    ctx.db.execute("UPDATE agents SET current_task = ? WHERE id = ?", (task["id"], ctx.me.id))
    journal.log(ctx, "task", f"{claim_verb(ctx, task)} #{task['id']} {task['title']}")


def claim(ctx: "Context", ref: str, lock: bool = False, ttl: float = config.DEFAULT_TTL) -> "sqlite3.Row":
    with ctx.db.write():
        task = find(ctx, ref)
        refuse_claim(ctx, task, unmet_deps(ctx, task["id"]))
        _take(ctx, task, lock, ttl)
    return get(ctx, task["id"])


def claim_next(ctx: "Context", lock: bool = False, ttl: float = config.DEFAULT_TTL,
               explain: "Callable[[str], object] | None" = None) -> "sqlite3.Row":
    """Claim the best available task: highest priority, then oldest.

    Skips tasks with unmet dependencies and tasks whose files another live
    agent has locked; reclaims tasks whose owner went stale or offline.
    `explain(text)` hears why each skipped task was skipped.
    """
    explain = explain or (lambda _text: None)
    with ctx.db.write():
        for task in _candidates(ctx):
            if unmet_deps(ctx, task["id"]):
                explain(DEPS_NOTE.format(task["id"]))
                continue
            specs = [lockspec.from_repo_path(ctx, p) for p in files(ctx, task["id"])]
            clashes = locks.find_conflicts(ctx, specs, "exclusive") if specs else []
            if clashes:
                explain(skip_note(task, clashes))
                continue
            _take(ctx, get(ctx, task["id"]), lock, ttl)
            return get(ctx, task["id"])
    raise NotFound(NOTHING)


def _candidates(ctx: "Context") -> "Iterator[Row]":
    """Open tasks and abandoned in-progress ones, best first, read lazily."""
    abandoned = ctx.db.all(
        f"""SELECT t.id, t.priority FROM tasks t LEFT JOIN agents a ON a.id = t.owner
            WHERE t.status = :in_progress AND (a.id IS NULL OR NOT {presence.holds_sql('a')})""",
        dict(ctx.presence(), in_progress=IN_PROGRESS),
    )
    cursor = ctx.db.execute("SELECT id, priority FROM tasks WHERE status = ? ORDER BY priority DESC, id", (OPEN,))
    return merged_candidates(cursor, abandoned)


def _finish(ctx: "Context", ref: str, status: str, force: bool, reason: str | None = None) -> "sqlite3.Row":
    with ctx.db.write():
        task = find(ctx, ref)
        refuse_finish(ctx, task, force)
        if task["status"] == status:
            return task
        ctx.db.execute(
            "UPDATE tasks SET status = ?, block_reason = ?, updated_at = ? WHERE id = ?",
            (status, reason, ctx.now, task["id"]),
        )
        if task["owner"]:
            ctx.db.execute("UPDATE agents SET current_task = NULL WHERE id = ? AND current_task = ?",
                           (task["owner"], task["id"]))
            locks.release_task(ctx, task["id"])
        journal.log(ctx, "task", finish_note(task, status, reason))
    return get(ctx, task["id"])


def complete(ctx: "Context", ref: str, force: bool = False) -> "sqlite3.Row":
    return _finish(ctx, ref, DONE, force)


def block(ctx: "Context", ref: str, reason: str, force: bool = False) -> "sqlite3.Row":
    return _finish(ctx, ref, BLOCKED, force, validate.text(reason, "reason"))


def cancel(ctx: "Context", ref: str, force: bool = False) -> "sqlite3.Row":
    return _finish(ctx, ref, CANCELLED, force)


def reopen(ctx: "Context", ref: str, force: bool = False) -> "sqlite3.Row":
    with ctx.db.write():
        task = find(ctx, ref)
        refuse_reopen(ctx, task, force)
        if task["owner"]:
            ctx.db.execute("UPDATE agents SET current_task = NULL WHERE id = ? AND current_task = ?",
                           (task["owner"], task["id"]))
            locks.release_task(ctx, task["id"])
        ctx.db.execute(
            "UPDATE tasks SET status = ?, owner = NULL, block_reason = NULL, updated_at = ? WHERE id = ?",
            (OPEN, ctx.now, task["id"]),
        )
        journal.log(ctx, "task", f"reopened #{task['id']} {task['title']}")
    return get(ctx, task["id"])


def listing(ctx: "Context", states: "Sequence[str] | None" = None) -> "list[sqlite3.Row]":
    order = "CASE t.status WHEN :in_progress THEN 0 WHEN :open THEN 1 WHEN :blocked THEN 2 ELSE 3 END"
    where, params = "", dict(ctx.presence(), in_progress=IN_PROGRESS, open=OPEN, blocked=BLOCKED)
    if states:
        marks = ", ".join(f":s{i}" for i in range(len(states)))
        where = f"WHERE t.status IN ({marks})"
        params.update({f"s{i}": s for i, s in enumerate(states)})
    return ctx.db.all(
        f"""SELECT t.*, a.name AS owner_name, {presence.holds_sql('a')} AS owner_holds
            FROM tasks t LEFT JOIN agents a ON a.id = t.owner {where}
            ORDER BY {order}, t.priority DESC, t.id""",
        params,
    )


def listing_owned(ctx: "Context") -> "list[sqlite3.Row]":
    """The caller's in-progress tasks."""
    return ctx.db.all("SELECT id, title FROM tasks WHERE owner = ? AND status = ?", (ctx.me.id, IN_PROGRESS))


def counts(ctx: "Context") -> dict[str, int]:
    """{state: number of tasks in it}."""
    rows = ctx.db.all("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status")
    return {r["status"]: r["n"] for r in rows}


def board(ctx: "Context", state: str, limit: int) -> "list[sqlite3.Row]":
    """The first `limit` tasks in `state` worth showing: done ones newest first, the rest by priority."""
    order = "t.id DESC" if state == DONE else "t.priority DESC, t.id"
    return ctx.db.all(
        f"""SELECT t.*, a.name AS owner_name FROM tasks t LEFT JOIN agents a ON a.id = t.owner
            WHERE t.status = ? ORDER BY {order} LIMIT ?""",
        (state, limit),
    )
