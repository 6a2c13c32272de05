"""The one interface to coordination state, and the choice of its implementation.

Everything that reads or writes agents, locks, tasks, messages, decisions or
the activity log goes through a Store bound to one Context. Two stores
implement it: SqliteStore (the default: one file in the repository, see
core.db and the domain modules it calls) and the etcd store (core.etcd) for
agents on several machines.

Rows are mappings with the keys the SQLite tables have (see core.schema),
plus the joined fields each method names; core.documents turns them into
the JSON shapes. Rules that do not depend on storage (lock overlap, names,
durations, the refusal text) live in their own modules and serve both stores.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from contextlib import AbstractContextManager
    from typing import Any, Protocol

    from .backend import Backend
    from .context import Context
    from .lockspec import Spec

    class Row(Protocol):
        """A record read by column name: a sqlite3.Row, or a plain dict."""

        def __getitem__(self, key: str, /) -> Any: ...

        def keys(self) -> Iterable[str]: ...

    Clash = tuple[Spec, Row]  # a spec the caller wants, and a lock row that stands in its way


class Store:
    """The operations of the coordination model. Every method is one atomic step."""

    backend = "abstract"

    def __init__(self, ctx: "Context") -> None:
        self.ctx = ctx

    def close(self) -> None:
        """Release connections and files."""

    # -- agents and presence --------------------------------------------------
    def check_in(self, state: str = "active") -> None:
        """Record that the caller is alive (throttled; creates its row on first use)."""
        raise NotImplementedError

    def register(self, name: str, role: str | None = None) -> "Row":
        """Set the caller's name and role; a name held by an active agent is a Conflict. Returns the agent row."""
        raise NotImplementedError

    def set_state(self, state: str) -> None:
        """Mark the caller active, idle (session ended) or offline (logged out)."""
        raise NotImplementedError

    def agent(self, agent_id: str) -> "Row | None":
        """The agent row with its effective `status`, or None."""
        raise NotImplementedError

    def find_agent(self, ref: str) -> "Row":
        """An agent by id or name; NotFound otherwise."""
        raise NotImplementedError

    def agents(self, include_offline: bool = True) -> "Sequence[Row]":
        """Every agent with `status` and `task_title`, the operator last, most recently seen first."""
        raise NotImplementedError

    # -- locks ----------------------------------------------------------------
    def acquire(self, specs: "Sequence[Spec]", reason: str = "", ttl: float = 3600.0, mode: str = "exclusive",
                task_id: int | None = None, wait: float | None = None) -> "Sequence[Row]":
        """Grant every spec or none (Conflict); with `wait` seconds, queue first come, first served."""
        raise NotImplementedError

    def release(self, specs: "Iterable[Spec]", force: bool = False) -> list[str]:
        """Release the caller's locks on specs (others' only with force), all or nothing. Returns paths."""
        raise NotImplementedError

    def release_all(self) -> int:
        """Drop every lock the caller holds. Returns how many."""
        raise NotImplementedError

    def renew(self, specs: "Iterable[Spec] | None" = None, ttl: float | None = None) -> list[str]:
        """Extend the caller's live locks (all, or those named). Returns their paths."""
        raise NotImplementedError

    def locks(self, include_expired: bool = False, mine: bool = False) -> "Sequence[Row]":
        """Lock rows with `owner_name`, `owner_status` and `enforced`, ordered by path."""
        raise NotImplementedError

    def blockers(self, specs: "Sequence[Spec]") -> "Sequence[Clash]":
        """[(spec, lock row)] for the locks that stop the caller editing any of specs (the hook's question)."""
        raise NotImplementedError

    def record_edit(self, specs: "Iterable[Spec]", tool_name: str) -> "Sequence[Clash]":
        """After an edit: log it, renew the caller's locks that cover it, take or renew its automatic leases.

        Returns [(spec, lock row)] for the files another agent held (both edits passed the gate at once):
        no lease is taken on those.
        """
        raise NotImplementedError

    def release_leases(self, why: str) -> int:
        """Drop every automatic lease the caller holds (its session ended). Returns how many."""
        raise NotImplementedError

    def record_refusal(self, clashes: "Iterable[Clash]", tool_name: str, wait: float | None = None) -> None:
        """Log in the activity feed that the caller's edit was refused by [(spec, lock row)].

        `wait` bounds how long a busy store may hold it up (the refusal must not wait on its log).
        """
        raise NotImplementedError

    def explain(self, clashes: "Iterable[Clash]") -> str:
        """The refusal text for [(spec, lock row)]: what, who, why, until when, how to reach them."""
        raise NotImplementedError

    # -- tasks ----------------------------------------------------------------
    def create_task(self, title: str, description: str = "", files: "Iterable[str]" = (), priority: int = 0,
                    depends_on: "Iterable[str]" = ()) -> "Row":
        raise NotImplementedError

    def task(self, task_id: int) -> "Row":
        """The task row with `owner_name` and `owner_holds`; NotFound otherwise."""
        raise NotImplementedError

    def find_task(self, ref: str) -> "Row":
        """A task by id (`12`, `#12`) or title."""
        raise NotImplementedError

    def task_files(self, task_id: int) -> list[str]:
        raise NotImplementedError

    def tasks(self, states: "Sequence[str] | None" = None) -> "Sequence[Row]":
        """Task rows, in progress first, then open, blocked, the rest; by priority, then age."""
        raise NotImplementedError

    def owned_tasks(self) -> "Sequence[Row]":
        """The caller's in-progress tasks."""
        raise NotImplementedError

    def claim(self, ref: str, lock: bool = False, ttl: float = 3600.0) -> "Row":
        raise NotImplementedError

    def claim_next(self, lock: bool = False, ttl: float = 3600.0,
                   explain: "Callable[[str], object] | None" = None) -> "Row":
        raise NotImplementedError

    def complete(self, ref: str, force: bool = False) -> "Row":
        raise NotImplementedError

    def block(self, ref: str, reason: str, force: bool = False) -> "Row":
        raise NotImplementedError

    def cancel(self, ref: str, force: bool = False) -> "Row":
        raise NotImplementedError

    def reopen(self, ref: str, force: bool = False) -> "Row":
        raise NotImplementedError

    def task_counts(self) -> dict[str, int]:
        """{state: number of tasks}."""
        raise NotImplementedError

    def task_board(self, state: str, limit: int) -> "Sequence[Row]":
        """The first `limit` tasks in `state` worth showing (done: newest first; else by priority)."""
        raise NotImplementedError

    # -- messages -------------------------------------------------------------
    def send(self, recipient: str, body: str, reply_to: int | None = None, kind: str = "message") -> int:
        """Returns the new message's id."""
        raise NotImplementedError

    def directive(self, recipient: str, body: str) -> list[int]:
        """Like send; to `all`, one directed copy per active agent. Returns the ids."""
        raise NotImplementedError

    def pending(self, directed_only: bool = False) -> "Sequence[Row]":
        """Messages for the caller that no channel has shown it yet (read-only)."""
        raise NotImplementedError

    def take_pending(self, via: str, directed_only: bool = False,
                     how_many: "Callable[[Sequence[Row]], int] | None" = None) -> "tuple[Sequence[Row], int]":
        """Mark pending messages delivered and return (taken, number left), oldest first, exactly once."""
        raise NotImplementedError

    def mark_read(self, message_ids: "Iterable[int]", via: str) -> int:
        """Record the given messages as seen by the caller (an explicit act, never a listing)."""
        raise NotImplementedError

    def history(self, limit: int = 50) -> "Sequence[Row]":
        raise NotImplementedError

    def read_message(self, message_id: int) -> "Row":
        raise NotImplementedError

    def ack(self, message_id: int) -> "Row":
        raise NotImplementedError

    def high_water(self) -> int | None:
        """The id below which every message is settled for the caller (the hooks' mail stamp)."""
        raise NotImplementedError

    def recent_messages(self, limit: int = 20, after_id: int = 0) -> "Sequence[Row]":
        raise NotImplementedError

    # -- the journal ----------------------------------------------------------
    def add_entry(self, kind: str, message: str, path: str | None = None) -> int:
        """`log --type T --message M [--file P]`: checked, then appended to the activity feed. Returns its id."""
        raise NotImplementedError

    def decide(self, text: str) -> int:
        raise NotImplementedError

    def decisions(self, limit: int | None = None) -> "Sequence[Row]":
        raise NotImplementedError

    def recent_activity(self, limit: int = 20, after_id: int = 0) -> "Sequence[Row]":
        raise NotImplementedError

    # -- upkeep ---------------------------------------------------------------
    def gc(self) -> dict[str, int]:
        """Expired locks, decayed presence, bounded history. Returns counts of what went."""
        raise NotImplementedError

    def snapshot(self) -> "AbstractContextManager[object]":
        """A context manager under which reads agree with each other."""
        raise NotImplementedError

    @property
    def case_insensitive(self) -> bool:
        """Are lock keys case-folded (a case-insensitive filesystem holds the state)?"""
        raise NotImplementedError

    @property
    def location(self) -> str:
        """Where the state lives, for people (a file path, or the etcd endpoints and namespace)."""
        raise NotImplementedError

    def version(self) -> int:
        """A value that changes whenever anyone commits (live views poll it)."""
        raise NotImplementedError


def open_store(ctx: "Context", choice: "Backend | None" = None) -> Store:
    """The store this repository is configured for (core.backend), or the one `choice` names."""
    from . import backend

    choice = ctx.backend = choice or backend.resolve(ctx.root)
    if not choice.is_etcd:
        from .sqlite_store import SqliteStore

        return SqliteStore(ctx)
    from .etcd.store import EtcdStore

    namespace = choice.namespace(ctx.root)
    return EtcdStore(choice.client(timeout=ctx.busy_timeout), namespace, ctx.root, ctx=ctx)
