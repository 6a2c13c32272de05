"""EtcdStore: the Store interface (core.store) on an etcd v3 cluster.

Construction (the backend selection in core.store.open_store does this):

    client = Client.from_url("etcd://10.0.0.5:2379,10.0.0.6:2379")
    store = EtcdStore(client, namespace, ctx.root, ctx=ctx)

- `client`: a core.etcd.client.Client; the store owns it from then on (close()).
- `namespace`: the key prefix part shared by every clone of the repository
  (the root commit, or "namespace" in .claude/agent-sync.json); see keys.py.
- `repo_root`: this checkout's root, for the local files (mail stamp) only.
- `ctx`: the Context whose caller (ctx.me) and clock (ctx.now) the methods use.
- `case_insensitive`: fold lock keys; only the namespace's first writer
  decides (P/meta), later clones follow what it recorded.

Every write is "read at one revision, decide with the shared rule modules,
commit if nothing read has changed", carrying a nonce (engine.py); the
methods live in agentops, lockops, taskops, mailops, journalops and gcops.
`on_locks_changed(store, granted, removed)`, when set, hears of every lock
write this process made (the local cache for hooks).
"""

import contextlib

from .. import blocking
from ..store import Store
from . import agentops, gcops, journalops, lockops, mailops, taskops
from .engine import Plan, transact, translated
from .keys import Keys, dumps, loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from contextlib import AbstractContextManager
    from typing import Any

    from ..context import Context
    from ..lockspec import Spec
    from ..store import Clash, Row
    from .client import Client
    from .engine import View


class EtcdStore(Store):
    """Coordination state under agent-sync/<namespace>/ in etcd."""

    backend = "etcd"
    on_locks_changed = None

    def __init__(self, client: "Client", namespace: str, repo_root: str, ctx: "Context | None" = None,
                 case_insensitive: bool | None = None) -> None:
        super().__init__(ctx)  # type: ignore[arg-type]  # tests build a bare store; open_store passes ctx
        self.client: "Any" = client  # txn answers are a union per op, which the op modules know
        self.keys = Keys(namespace)
        self.namespace = namespace
        self.repo_root = repo_root
        self._fold = case_insensitive
        self._timeout: float | None = None
        self.pinned = 0  # a revision every read uses, inside snapshot()
        self.last_revision = 0  # of this process's last commit

    def close(self) -> None:
        self.client.close()

    @property
    def location(self) -> str:
        members = ",".join(f"{host}:{port}" for host, port in self.client.endpoints)
        scheme = "etcd+https" if self.client.tls else "etcd"
        return f"{scheme}://{members} namespace {self.namespace}"

    # -- plumbing the op modules share -----------------------------------------
    def timeout(self) -> float:
        return self._timeout or self.ctx.busy_timeout

    def with_timeout(self, seconds: float | None, action: "Callable[[], Any]") -> "Any":
        saved, self._timeout = self._timeout, seconds or self._timeout
        try:
            return action()
        finally:
            self._timeout = saved

    def committed(self, revision: int) -> None:
        self.last_revision = max(self.last_revision, revision)

    def locks_changed(self, granted: object = None, removed: bool = False) -> None:
        if self.on_locks_changed is not None:
            self.on_locks_changed(self, granted, removed)

    def range(self, prefix: str, start: str | None = None, **options: "Any") -> list:
        """The kvs under a prefix (from key `start`, if given), at the pinned revision if any."""
        with translated():
            if start is None:
                return self.client.range(prefix, prefix=True, revision=self.pinned, timeout=self.timeout(),
                                         **options).kvs
            from .wire import prefix_end

            return self.client.range(start, range_end=prefix_end(prefix), revision=self.pinned,
                                     timeout=self.timeout(), **options).kvs

    def agent_row(self, agent_id: str, view: "View | None" = None) -> dict | None:
        if view is not None:
            return view.value(self.keys.agent(agent_id))
        with translated():
            kv = self.client.get(self.keys.agent(agent_id), revision=self.pinned, timeout=self.timeout())
        return loads(kv.value) if kv else None

    def agent_rows(self) -> list[dict]:
        return [loads(kv.value) for kv in self.range(self.keys.agents)]

    def agent_names(self) -> dict[str, str]:
        return {row["id"]: row["name"] for row in self.agent_rows()}

    def task_values(self) -> list[dict]:
        return [loads(kv.value) for kv in self.range(self.keys.tasks)]

    def maybe_prune(self) -> None:
        from .. import config

        if journalops.prune_due():
            with translated():
                journalops.trim(self, self.keys.activities, config.count("AGENT_SYNC_KEEP_ACTIVITY"))

    @property
    def case_insensitive(self) -> bool:
        if self._fold is None or not getattr(self, "_meta_read", False):
            self._fold = self._meta(bool(self._fold))
            self._meta_read = True
        return self._fold

    def _meta(self, fold):
        """The namespace's recorded fold; the first writer records its own."""
        key = self.keys.meta

        def decide(view):
            found = view.value(key)
            if found is not None:
                return Plan(found["fold"])
            plan = Plan(fold)
            plan.put(key, dumps({"schema": 1, "fold": fold, "created_at": self.ctx.now if self.ctx else 0}))
            plan.same(key, None)
            return plan

        return transact(self, [key], decide)

    # -- agents and presence ----------------------------------------------------
    def check_in(self, state: str='active') -> None:
        return agentops.check_in(self, state)

    def register(self, name: str, role: str | None=None) -> 'Row':
        return agentops.register(self, name, role)

    def set_state(self, state: str) -> None:
        return agentops.set_state(self, state)

    def agent(self, agent_id: str) -> 'Row | None':
        return agentops.agent(self, agent_id)

    def find_agent(self, ref: str) -> 'Row':
        return agentops.find(self, ref)

    def agents(self, include_offline: bool=True) -> 'Sequence[Row]':
        return agentops.listing(self, include_offline)

    # -- locks --------------------------------------------------------------------
    def acquire(self, specs: 'Sequence[Spec]', reason: str='', ttl: float=3600.0, mode: str='exclusive', task_id: int | None=None, wait: float | None=None) -> 'Sequence[Row]':
        return lockops.acquire(self, specs, reason=reason, ttl=ttl, mode=mode, task_id=task_id, wait=wait)

    def release(self, specs: 'Iterable[Spec]', force: bool=False) -> list[str]:
        return lockops.release(self, specs, force=force)

    def release_all(self) -> int:
        return lockops.release_all(self)

    def renew(self, specs: 'Iterable[Spec] | None'=None, ttl: float | None=None) -> list[str]:
        return lockops.renew(self, specs, ttl)

    def locks(self, include_expired: bool=False, mine: bool=False) -> 'Sequence[Row]':
        return lockops.listing(self, include_expired=include_expired, mine=mine)

    def blockers(self, specs: 'Sequence[Spec]') -> 'Sequence[Clash]':
        return lockops.blockers(self, specs)

    def record_edit(self, specs: 'Iterable[Spec]', tool_name: str) -> 'Sequence[Clash]':
        return lockops.record_edit(self, specs, tool_name)

    def release_leases(self, why: str) -> int:
        return lockops.release_leases(self, why)

    def record_refusal(self, clashes: 'Iterable[Clash]', tool_name: str, wait: float | None=None) -> None:
        return lockops.record_refusal(self, clashes, tool_name, wait)

    def explain(self, clashes: 'Iterable[Clash]') -> str:
        return blocking.explain(clashes, self.ctx.now)

    # -- tasks ----------------------------------------------------------------------
    def create_task(self, title: str, description: str='', files: 'Iterable[str]'=(), priority: int=0, depends_on: 'Iterable[str]'=()) -> 'Row':
        return taskops.create(self, title, description, files, priority, depends_on)

    def task(self, task_id: int) -> 'Row':
        return taskops.get(self, task_id)

    def find_task(self, ref: str) -> 'Row':
        return taskops.board(self).find(ref)

    def task_files(self, task_id: int) -> list[str]:
        return taskops.files(self, task_id)

    def tasks(self, states: 'Sequence[str] | None'=None) -> 'Sequence[Row]':
        return taskops.listing(self, states)

    def owned_tasks(self) -> 'Sequence[Row]':
        return taskops.owned(self)

    def claim(self, ref: str, lock: bool=False, ttl: float=3600.0) -> 'Row':
        return taskops.claim(self, ref, lock=lock, ttl=ttl)

    def claim_next(self, lock: bool=False, ttl: float=3600.0, explain: 'Callable[[str], object] | None'=None) -> 'Row':
        return taskops.claim_next(self, lock=lock, ttl=ttl, explain=explain)

    def complete(self, ref: str, force: bool=False) -> 'Row':
        return taskops.complete(self, ref, force=force)

    def block(self, ref: str, reason: str, force: bool=False) -> 'Row':
        return taskops.block(self, ref, reason, force=force)

    def cancel(self, ref: str, force: bool=False) -> 'Row':
        return taskops.cancel(self, ref, force=force)

    def reopen(self, ref: str, force: bool=False) -> 'Row':
        return taskops.reopen(self, ref, force=force)

    def task_counts(self) -> dict[str, int]:
        return taskops.counts(self)

    def task_board(self, state: str, limit: int) -> 'Sequence[Row]':
        return taskops.task_board(self, state, limit)

    # -- messages ---------------------------------------------------------------------
    def send(self, recipient: str, body: str, reply_to: int | None=None, kind: str='message') -> int:
        return mailops.send(self, recipient, body, reply_to=reply_to, kind=kind)

    def directive(self, recipient: str, body: str) -> list[int]:
        return mailops.directive(self, recipient, body)

    def pending(self, directed_only: bool=False) -> 'Sequence[Row]':
        return mailops.pending(self, directed_only)

    def take_pending(self, via: str, directed_only: bool=False, how_many: 'Callable[[Sequence[Row]], int] | None'=None) -> 'tuple[Sequence[Row], int]':
        return mailops.take_pending(self, via, directed_only=directed_only, how_many=how_many)

    def mark_read(self, message_ids: 'Iterable[int]', via: str) -> int:
        return mailops.mark_read(self, message_ids, via)

    def history(self, limit: int=50) -> 'Sequence[Row]':
        return mailops.history(self, limit)

    def read_message(self, message_id: int) -> 'Row':
        return mailops.read_message(self, message_id)

    def ack(self, message_id: int) -> 'Row':
        return mailops.ack(self, message_id)

    def high_water(self) -> int | None:
        return mailops.high_water(self)

    def recent_messages(self, limit: int=20, after_id: int=0) -> 'Sequence[Row]':
        return mailops.recent(self, limit, after_id)

    # -- the journal ------------------------------------------------------------------
    def add_entry(self, kind: str, message: str, path: str | None=None) -> int:
        return journalops.add_entry(self, kind, message, path)

    def decide(self, text: str) -> int:
        return journalops.decide(self, text)

    def decisions(self, limit: int | None=None) -> 'Sequence[Row]':
        return journalops.decisions(self, limit)

    def recent_activity(self, limit: int=20, after_id: int=0) -> 'Sequence[Row]':
        return journalops.recent(self, limit, after_id)

    # -- upkeep -----------------------------------------------------------------------
    def gc(self) -> dict[str, int]:
        return gcops.collect(self)

    @contextlib.contextmanager
    def snapshot(self) -> "Iterator[None]":
        """Reads inside agree: they all use the revision current when it began."""
        if self.pinned:
            yield
            return
        self.pinned = self.version()
        try:
            yield
        finally:
            self.pinned = 0

    def version(self) -> int:
        with translated():
            return self.client.range(self.keys.meta, count_only=True, timeout=self.timeout()).revision
