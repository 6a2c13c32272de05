"""The SQLite store: one database file in the repository (core.db), the default.

Each method hands the call to the domain module that holds its SQL: agents,
locks (with waitqueue), tasks, messages, journal and gc. Those modules are
the SQLite implementation of the coordination model.
"""

from . import lazy, spool
from .db import Database
from .store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import agents, blocking, gc, journal, leases, locks, messages, tasks
    from collections.abc import Callable, Iterable, Sequence
    from contextlib import AbstractContextManager

    from .context import Context
    from .lockspec import Spec
    from .store import Clash, Row
else:  # each imported on first use: a command loads only the modules it calls
    lazy.modules(__package__, "agents blocking gc journal leases locks messages tasks", globals())


SPOOL_WAIT = 0.25  # seconds a reader waits to move spooled refusals into the feed before it reads without them


class SqliteStore(Store):
    """Coordination state in `.claude/coordination/state.sqlite`."""

    backend = "sqlite"

    def __init__(self, ctx: "Context") -> None:
        super().__init__(ctx)
        self.db = ctx.db = Database(ctx.root, ctx.busy_timeout)

    def close(self) -> None:
        self.db.close()

    @property
    def case_insensitive(self) -> bool:
        return self.db.case_insensitive

    @property
    def location(self) -> str:
        return self.db.path

    # agents and presence
    def check_in(self, state: str = "active") -> None:
        return agents.check_in(self.ctx, state)

    def register(self, name: str, role: str | None = None) -> "Row":
        return agents.register(self.ctx, name, role)

    def set_state(self, state: str) -> None:
        return agents.set_state(self.ctx, state)

    def agent(self, agent_id: str) -> "Row | None":
        return agents.get(self.ctx, agent_id)

    def find_agent(self, ref: str) -> "Row":
        return agents.find(self.ctx, ref)

    def agents(self, include_offline: bool = True) -> "Sequence[Row]":
        return agents.listing(self.ctx, include_offline)

    # locks
    def acquire(self, specs: "Sequence[Spec]", reason: str = "", ttl: float = 3600.0, mode: str = "exclusive",
                task_id: int | None = None, wait: float | None = None) -> "Sequence[Row]":
        return locks.acquire(self.ctx, specs, reason=reason, ttl=ttl, mode=mode, task_id=task_id, wait=wait)

    def release(self, specs: "Iterable[Spec]", force: bool = False) -> list[str]:
        return locks.release(self.ctx, specs, force=force)

    def release_all(self) -> int:
        return locks.release_all(self.ctx)

    def renew(self, specs: "Iterable[Spec] | None" = None, ttl: float | None = None) -> list[str]:
        return locks.renew(self.ctx, specs, ttl)

    def locks(self, include_expired: bool = False, mine: bool = False) -> "Sequence[Row]":
        return locks.listing(self.ctx, include_expired=include_expired, mine=mine)

    def blockers(self, specs: "Sequence[Spec]") -> "Sequence[Clash]":
        return locks.blockers(self.ctx, specs)

    def record_edit(self, specs: "Iterable[Spec]", tool_name: str) -> "Sequence[Clash]":
        held: "list[Clash]" = []
        with self.db.write():
            for spec in specs:
                journal.log(self.ctx, "edit", f"{tool_name} {spec.path}", spec.path)
                held += leases.after_edit(self.ctx, spec, covered_by_lock=locks.renew_covering(self.ctx, spec))
        return held

    def release_leases(self, why: str) -> int:
        return leases.release_all(self.ctx, why)

    def record_refusal(self, clashes: "Iterable[Clash]", tool_name: str, wait: float | None = None) -> None:
        with self.db.write(wait=wait):
            for path, message in blocking.refusal_entries(clashes, tool_name):
                journal.log(self.ctx, "blocked", message, path)

    def explain(self, clashes: "Iterable[Clash]") -> str:
        return blocking.explain(clashes, self.ctx.now)

    # tasks
    def create_task(self, title: str, description: str = "", files: "Iterable[str]" = (), priority: int = 0,
                    depends_on: "Iterable[str]" = ()) -> "Row":
        return tasks.create(self.ctx, title, description, files, priority, depends_on)

    def task(self, task_id: int) -> "Row":
        return tasks.get(self.ctx, task_id)

    def find_task(self, ref: str) -> "Row":
        return tasks.find(self.ctx, ref)

    def task_files(self, task_id: int) -> list[str]:
        return tasks.files(self.ctx, task_id)

    def tasks(self, states: "Sequence[str] | None" = None) -> "Sequence[Row]":
        return tasks.listing(self.ctx, states)

    def owned_tasks(self) -> "Sequence[Row]":
        return tasks.listing_owned(self.ctx)

    def claim(self, ref: str, lock: bool = False, ttl: float = 3600.0) -> "Row":
        return tasks.claim(self.ctx, ref, lock=lock, ttl=ttl)

    def claim_next(self, lock: bool = False, ttl: float = 3600.0,
                   explain: "Callable[[str], object] | None" = None) -> "Row":
        return tasks.claim_next(self.ctx, lock=lock, ttl=ttl, explain=explain)

    def complete(self, ref: str, force: bool = False) -> "Row":
        return tasks.complete(self.ctx, ref, force=force)

    def block(self, ref: str, reason: str, force: bool = False) -> "Row":
        return tasks.block(self.ctx, ref, reason, force=force)

    def cancel(self, ref: str, force: bool = False) -> "Row":
        return tasks.cancel(self.ctx, ref, force=force)

    def reopen(self, ref: str, force: bool = False) -> "Row":
        return tasks.reopen(self.ctx, ref, force=force)

    def task_counts(self) -> dict[str, int]:
        return tasks.counts(self.ctx)

    def task_board(self, state: str, limit: int) -> "Sequence[Row]":
        return tasks.board(self.ctx, state, limit)

    # messages
    def send(self, recipient: str, body: str, reply_to: int | None = None, kind: str = "message") -> int:
        return messages.send(self.ctx, recipient, body, reply_to=reply_to, kind=kind)

    def directive(self, recipient: str, body: str) -> list[int]:
        return messages.directive(self.ctx, recipient, body)

    def pending(self, directed_only: bool = False) -> "Sequence[Row]":
        return messages.pending(self.ctx, directed_only)

    def take_pending(self, via: str, directed_only: bool = False,
                     how_many: "Callable[[Sequence[Row]], int] | None" = None) -> "tuple[Sequence[Row], int]":
        return messages.take_pending(self.ctx, via, directed_only=directed_only, how_many=how_many)

    def mark_read(self, message_ids: "Iterable[int]", via: str) -> int:
        return messages.mark_read(self.ctx, message_ids, via)

    def history(self, limit: int = 50) -> "Sequence[Row]":
        return messages.history(self.ctx, limit)

    def read_message(self, message_id: int) -> "Row":
        return messages.read(self.ctx, message_id)

    def ack(self, message_id: int) -> "Row":
        return messages.ack(self.ctx, message_id)

    def high_water(self) -> int | None:
        return messages.high_water(self.ctx)

    def recent_messages(self, limit: int = 20, after_id: int = 0) -> "Sequence[Row]":
        return messages.recent(self.ctx, limit, after_id)

    # the journal
    def add_entry(self, kind: str, message: str, path: str | None = None) -> int:
        return journal.add_entry(self.ctx, kind, message, path)

    def decide(self, text: str) -> int:
        return journal.decide(self.ctx, text)

    def decisions(self, limit: int | None = None) -> "Sequence[Row]":
        return journal.decisions(self.ctx, limit)

    def recent_activity(self, limit: int = 20, after_id: int = 0) -> "Sequence[Row]":
        self._move_spooled_refusals_in()
        return journal.recent(self.ctx, limit, after_id)

    # upkeep
    def gc(self) -> dict[str, int]:
        return gc.collect(self.ctx)

    def snapshot(self) -> "AbstractContextManager[object]":
        self._move_spooled_refusals_in()
        return self.db.read()

    def _move_spooled_refusals_in(self) -> None:
        """Before the feed is read: a short write, whose commit moves spooled refusals in (spool.py)."""
        from .errors import AgentSyncError

        if self.db.in_transaction() or not spool.pending(self.db.state):
            return
        try:
            with self.db.write(wait=SPOOL_WAIT):
                pass
        except AgentSyncError:
            pass  # busy or read-only: the next writer moves them

    def version(self) -> int:
        return self.db.scalar("PRAGMA data_version")
