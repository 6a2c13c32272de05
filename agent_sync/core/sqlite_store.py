"""The SQLite store: one database file in the repository (core.db), the default.

Each method hands the call to the domain module that holds its SQL: agents,
locks (with waitqueue), tasks, messages, journal and gc. Those modules are
the SQLite implementation of the coordination model.
"""

from . import agents, gc, journal, leases, locks, messages, tasks
from .db import Database
from .store import Store


class SqliteStore(Store):
    """Coordination state in `.claude/coordination/state.sqlite`."""

    backend = "sqlite"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.db = ctx.db = Database(ctx.root, ctx.busy_timeout)

    def close(self):
        self.db.close()

    @property
    def case_insensitive(self):
        return self.db.case_insensitive

    @property
    def location(self):
        return self.db.path

    # agents and presence
    def check_in(self, state="active"):
        return agents.check_in(self.ctx, state)

    def register(self, name, role=None):
        return agents.register(self.ctx, name, role)

    def set_state(self, state):
        return agents.set_state(self.ctx, state)

    def agent(self, agent_id):
        return agents.get(self.ctx, agent_id)

    def find_agent(self, ref):
        return agents.find(self.ctx, ref)

    def agents(self, include_offline=True):
        return agents.listing(self.ctx, include_offline)

    # locks
    def acquire(self, specs, reason="", ttl=3600.0, mode="exclusive", task_id=None, wait=None):
        return locks.acquire(self.ctx, specs, reason=reason, ttl=ttl, mode=mode, task_id=task_id, wait=wait)

    def release(self, specs, force=False):
        return locks.release(self.ctx, specs, force=force)

    def release_all(self):
        return locks.release_all(self.ctx)

    def renew(self, specs=None, ttl=None):
        return locks.renew(self.ctx, specs, ttl)

    def locks(self, include_expired=False, mine=False):
        return locks.listing(self.ctx, include_expired=include_expired, mine=mine)

    def blockers(self, specs):
        return locks.blockers(self.ctx, specs)

    def record_edit(self, specs, tool_name):
        held = []
        with self.db.write():
            for spec in specs:
                journal.log(self.ctx, "edit", f"{tool_name} {spec.path}", spec.path)
                held += leases.after_edit(self.ctx, spec, covered_by_lock=locks.renew_covering(self.ctx, spec))
        return held

    def release_leases(self, why):
        return leases.release_all(self.ctx, why)

    def record_refusal(self, clashes, tool_name, wait=None):
        owners: dict = {}
        for spec, row in clashes:
            owners.setdefault(spec.path, []).append(f"{row['owner_name']} [{row['owner']}]")
        with self.db.write(wait=wait):
            for path, who in owners.items():
                journal.log(self.ctx, "blocked", f"{tool_name} {path} refused: locked by {', '.join(who)}", path)

    def explain(self, clashes):
        return locks.explain(self.ctx, clashes)

    # tasks
    def create_task(self, title, description="", files=(), priority=0, depends_on=()):
        return tasks.create(self.ctx, title, description, files, priority, depends_on)

    def task(self, task_id):
        return tasks.get(self.ctx, task_id)

    def find_task(self, ref):
        return tasks.find(self.ctx, ref)

    def task_files(self, task_id):
        return tasks.files(self.ctx, task_id)

    def tasks(self, states=None):
        return tasks.listing(self.ctx, states)

    def owned_tasks(self):
        return tasks.listing_owned(self.ctx)

    def claim(self, ref, lock=False, ttl=3600.0):
        return tasks.claim(self.ctx, ref, lock=lock, ttl=ttl)

    def claim_next(self, lock=False, ttl=3600.0, explain=None):
        return tasks.claim_next(self.ctx, lock=lock, ttl=ttl, explain=explain)

    def complete(self, ref, force=False):
        return tasks.complete(self.ctx, ref, force=force)

    def block(self, ref, reason, force=False):
        return tasks.block(self.ctx, ref, reason, force=force)

    def cancel(self, ref, force=False):
        return tasks.cancel(self.ctx, ref, force=force)

    def reopen(self, ref, force=False):
        return tasks.reopen(self.ctx, ref, force=force)

    def task_counts(self):
        return tasks.counts(self.ctx)

    def task_board(self, state, limit):
        return tasks.board(self.ctx, state, limit)

    # messages
    def send(self, recipient, body, reply_to=None, kind="message"):
        return messages.send(self.ctx, recipient, body, reply_to=reply_to, kind=kind)

    def directive(self, recipient, body):
        return messages.directive(self.ctx, recipient, body)

    def pending(self, directed_only=False):
        return messages.pending(self.ctx, directed_only)

    def take_pending(self, via, directed_only=False, how_many=None):
        return messages.take_pending(self.ctx, via, directed_only=directed_only, how_many=how_many)

    def mark_read(self, message_ids, via):
        return messages.mark_read(self.ctx, message_ids, via)

    def history(self, limit=50):
        return messages.history(self.ctx, limit)

    def read_message(self, message_id):
        return messages.read(self.ctx, message_id)

    def ack(self, message_id):
        return messages.ack(self.ctx, message_id)

    def high_water(self):
        return messages.high_water(self.ctx)

    def recent_messages(self, limit=20, after_id=0):
        return messages.recent(self.ctx, limit, after_id)

    # the journal
    def add_entry(self, kind, message, path=None):
        return journal.add_entry(self.ctx, kind, message, path)

    def decide(self, text):
        return journal.decide(self.ctx, text)

    def decisions(self, limit=None):
        return journal.decisions(self.ctx, limit)

    def recent_activity(self, limit=20, after_id=0):
        return journal.recent(self.ctx, limit, after_id)

    # upkeep
    def gc(self):
        return gc.collect(self.ctx)

    def snapshot(self):
        return self.db.read()

    def version(self):
        return self.db.scalar("PRAGMA data_version")
