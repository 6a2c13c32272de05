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

from .. import locks
from ..store import Store
from . import agentops, gcops, journalops, lockops, mailops, taskops
from .engine import Plan, transact, translated
from .keys import Keys, dumps, loads


class EtcdStore(Store):
    """Coordination state under agent-sync/<namespace>/ in etcd."""

    backend = "etcd"
    on_locks_changed = None

    def __init__(self, client, namespace, repo_root, ctx=None, case_insensitive=None):
        super().__init__(ctx)
        self.client = client
        self.keys = Keys(namespace)
        self.namespace = namespace
        self.repo_root = repo_root
        self._fold = case_insensitive
        self._timeout = None
        self.pinned = 0  # a revision every read uses, inside snapshot()
        self.last_revision = 0  # of this process's last commit

    def close(self):
        self.client.close()

    @property
    def location(self):
        members = ",".join(f"{host}:{port}" for host, port in self.client.endpoints)
        scheme = "etcd+https" if self.client.tls else "etcd"
        return f"{scheme}://{members} namespace {self.namespace}"

    # -- plumbing the op modules share -----------------------------------------
    def timeout(self):
        return self._timeout or self.ctx.busy_timeout

    def with_timeout(self, seconds, action):
        saved, self._timeout = self._timeout, seconds or self._timeout
        try:
            return action()
        finally:
            self._timeout = saved

    def committed(self, revision):
        self.last_revision = max(self.last_revision, revision)

    def locks_changed(self, granted=None, removed=False):
        if self.on_locks_changed is not None:
            self.on_locks_changed(self, granted, removed)

    def range(self, prefix, start=None, **options):
        """The kvs under a prefix (from key `start`, if given), at the pinned revision if any."""
        with translated():
            if start is None:
                return self.client.range(prefix, prefix=True, revision=self.pinned, timeout=self.timeout(),
                                         **options).kvs
            from .wire import prefix_end

            return self.client.range(start, range_end=prefix_end(prefix), revision=self.pinned,
                                     timeout=self.timeout(), **options).kvs

    def agent_row(self, agent_id, view=None):
        if view is not None:
            return view.value(self.keys.agent(agent_id))
        with translated():
            kv = self.client.get(self.keys.agent(agent_id), revision=self.pinned, timeout=self.timeout())
        return loads(kv.value) if kv else None

    def agent_rows(self):
        return [loads(kv.value) for kv in self.range(self.keys.agents)]

    def agent_names(self):
        return {row["id"]: row["name"] for row in self.agent_rows()}

    def task_values(self):
        return [loads(kv.value) for kv in self.range(self.keys.tasks)]

    def maybe_prune(self):
        from .. import config

        if journalops.prune_due():
            with translated():
                journalops.trim(self, self.keys.activities, config.count("AGENT_SYNC_KEEP_ACTIVITY"))

    @property
    def case_insensitive(self):
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
    def check_in(self, state="active"):
        return agentops.check_in(self, state)

    def register(self, name, role=None):
        return agentops.register(self, name, role)

    def set_state(self, state):
        return agentops.set_state(self, state)

    def agent(self, agent_id):
        return agentops.agent(self, agent_id)

    def find_agent(self, ref):
        return agentops.find(self, ref)

    def agents(self, include_offline=True):
        return agentops.listing(self, include_offline)

    # -- locks --------------------------------------------------------------------
    def acquire(self, specs, reason="", ttl=3600.0, mode="exclusive", task_id=None, wait=None):
        return lockops.acquire(self, specs, reason=reason, ttl=ttl, mode=mode, task_id=task_id, wait=wait)

    def release(self, specs, force=False):
        return lockops.release(self, specs, force=force)

    def release_all(self):
        return lockops.release_all(self)

    def renew(self, specs=None, ttl=None):
        return lockops.renew(self, specs, ttl)

    def locks(self, include_expired=False, mine=False):
        return lockops.listing(self, include_expired=include_expired, mine=mine)

    def blockers(self, specs):
        return lockops.blockers(self, specs)

    def record_edit(self, specs, tool_name):
        return lockops.record_edit(self, specs, tool_name)

    def release_leases(self, why):
        return lockops.release_leases(self, why)

    def record_refusal(self, clashes, tool_name, wait=None):
        return lockops.record_refusal(self, clashes, tool_name, wait)

    def explain(self, clashes):
        return locks.explain(self.ctx, clashes)

    # -- tasks ----------------------------------------------------------------------
    def create_task(self, title, description="", files=(), priority=0, depends_on=()):
        return taskops.create(self, title, description, files, priority, depends_on)

    def task(self, task_id):
        return taskops.get(self, task_id)

    def find_task(self, ref):
        return taskops.board(self).find(ref)

    def task_files(self, task_id):
        return taskops.files(self, task_id)

    def tasks(self, states=None):
        return taskops.listing(self, states)

    def owned_tasks(self):
        return taskops.owned(self)

    def claim(self, ref, lock=False, ttl=3600.0):
        return taskops.claim(self, ref, lock=lock, ttl=ttl)

    def claim_next(self, lock=False, ttl=3600.0, explain=None):
        return taskops.claim_next(self, lock=lock, ttl=ttl, explain=explain)

    def complete(self, ref, force=False):
        return taskops.complete(self, ref, force=force)

    def block(self, ref, reason, force=False):
        return taskops.block(self, ref, reason, force=force)

    def cancel(self, ref, force=False):
        return taskops.cancel(self, ref, force=force)

    def reopen(self, ref, force=False):
        return taskops.reopen(self, ref, force=force)

    def task_counts(self):
        return taskops.counts(self)

    def task_board(self, state, limit):
        return taskops.task_board(self, state, limit)

    # -- messages ---------------------------------------------------------------------
    def send(self, recipient, body, reply_to=None, kind="message"):
        return mailops.send(self, recipient, body, reply_to=reply_to, kind=kind)

    def directive(self, recipient, body):
        return mailops.directive(self, recipient, body)

    def pending(self, directed_only=False):
        return mailops.pending(self, directed_only)

    def take_pending(self, via, directed_only=False, how_many=None):
        return mailops.take_pending(self, via, directed_only=directed_only, how_many=how_many)

    def mark_read(self, message_ids, via):
        return mailops.mark_read(self, message_ids, via)

    def history(self, limit=50):
        return mailops.history(self, limit)

    def read_message(self, message_id):
        return mailops.read_message(self, message_id)

    def ack(self, message_id):
        return mailops.ack(self, message_id)

    def high_water(self):
        return mailops.high_water(self)

    def recent_messages(self, limit=20, after_id=0):
        return mailops.recent(self, limit, after_id)

    # -- the journal ------------------------------------------------------------------
    def add_entry(self, kind, message, path=None):
        return journalops.add_entry(self, kind, message, path)

    def decide(self, text):
        return journalops.decide(self, text)

    def decisions(self, limit=None):
        return journalops.decisions(self, limit)

    def recent_activity(self, limit=20, after_id=0):
        return journalops.recent(self, limit, after_id)

    # -- upkeep -----------------------------------------------------------------------
    def gc(self):
        return gcops.collect(self)

    @contextlib.contextmanager
    def snapshot(self):
        """Reads inside agree: they all use the revision current when it began."""
        if self.pinned:
            yield
            return
        self.pinned = self.version()
        try:
            yield
        finally:
            self.pinned = 0

    def version(self):
        with translated():
            return self.client.range(self.keys.meta, count_only=True, timeout=self.timeout()).revision
