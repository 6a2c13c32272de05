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


class Store:
    """The operations of the coordination model. Every method is one atomic step."""

    backend = "abstract"

    def __init__(self, ctx):
        self.ctx = ctx

    def close(self):
        """Release connections and files."""

    # -- agents and presence --------------------------------------------------
    def check_in(self, state="active"):
        """Record that the caller is alive (throttled; creates its row on first use)."""
        raise NotImplementedError

    def register(self, name, role=None):
        """Set the caller's name and role; a name held by an active agent is a Conflict. Returns the agent row."""
        raise NotImplementedError

    def set_state(self, state):
        """Mark the caller active, idle (session ended) or offline (logged out)."""
        raise NotImplementedError

    def agent(self, agent_id):
        """The agent row with its effective `status`, or None."""
        raise NotImplementedError

    def find_agent(self, ref):
        """An agent by id or name; NotFound otherwise."""
        raise NotImplementedError

    def agents(self, include_offline=True):
        """Every agent with `status` and `task_title`, the operator last, most recently seen first."""
        raise NotImplementedError

    # -- locks ----------------------------------------------------------------
    def acquire(self, specs, reason="", ttl=3600.0, mode="exclusive", task_id=None, wait=None):
        """Grant every spec or none (Conflict); with `wait` seconds, queue first come, first served."""
        raise NotImplementedError

    def release(self, specs, force=False):
        """Release the caller's locks on specs (others' only with force), all or nothing. Returns paths."""
        raise NotImplementedError

    def release_all(self):
        """Drop every lock the caller holds. Returns how many."""
        raise NotImplementedError

    def renew(self, specs=None, ttl=None):
        """Extend the caller's live locks (all, or those named). Returns their paths."""
        raise NotImplementedError

    def locks(self, include_expired=False, mine=False):
        """Lock rows with `owner_name`, `owner_status` and `enforced`, ordered by path."""
        raise NotImplementedError

    def blockers(self, specs):
        """[(spec, lock row)] for the locks that stop the caller editing any of specs (the hook's question)."""
        raise NotImplementedError

    def record_edit(self, specs, tool_name):
        """After an edit: log it, renew the caller's locks that cover it, take or renew its automatic leases.

        Returns [(spec, lock row)] for the files another agent held (both edits passed the gate at once):
        no lease is taken on those.
        """
        raise NotImplementedError

    def release_leases(self, why):
        """Drop every automatic lease the caller holds (its session ended). Returns how many."""
        raise NotImplementedError

    def record_refusal(self, clashes, tool_name, wait=None):
        """Log in the activity feed that the caller's edit was refused by [(spec, lock row)].

        `wait` bounds how long a busy store may hold it up (the refusal must not wait on its log).
        """
        raise NotImplementedError

    def explain(self, clashes):
        """The refusal text for [(spec, lock row)]: what, who, why, until when, how to reach them."""
        raise NotImplementedError

    # -- tasks ----------------------------------------------------------------
    def create_task(self, title, description="", files=(), priority=0, depends_on=()):
        raise NotImplementedError

    def task(self, task_id):
        """The task row with `owner_name` and `owner_holds`; NotFound otherwise."""
        raise NotImplementedError

    def find_task(self, ref):
        """A task by id (`12`, `#12`) or title."""
        raise NotImplementedError

    def task_files(self, task_id):
        raise NotImplementedError

    def tasks(self, states=None):
        """Task rows, in progress first, then open, blocked, the rest; by priority, then age."""
        raise NotImplementedError

    def owned_tasks(self):
        """The caller's in-progress tasks."""
        raise NotImplementedError

    def claim(self, ref, lock=False, ttl=3600.0):
        raise NotImplementedError

    def claim_next(self, lock=False, ttl=3600.0, explain=None):
        raise NotImplementedError

    def complete(self, ref, force=False):
        raise NotImplementedError

    def block(self, ref, reason, force=False):
        raise NotImplementedError

    def cancel(self, ref, force=False):
        raise NotImplementedError

    def reopen(self, ref, force=False):
        raise NotImplementedError

    def task_counts(self):
        """{state: number of tasks}."""
        raise NotImplementedError

    def task_board(self, state, limit):
        """The first `limit` tasks in `state` worth showing (done: newest first; else by priority)."""
        raise NotImplementedError

    # -- messages -------------------------------------------------------------
    def send(self, recipient, body, reply_to=None, kind="message"):
        """Returns the new message's id."""
        raise NotImplementedError

    def directive(self, recipient, body):
        """Like send; to `all`, one directed copy per active agent. Returns the ids."""
        raise NotImplementedError

    def pending(self, directed_only=False):
        """Messages for the caller that no channel has shown it yet (read-only)."""
        raise NotImplementedError

    def take_pending(self, via, directed_only=False, how_many=None):
        """Mark pending messages delivered and return (taken, number left), oldest first, exactly once."""
        raise NotImplementedError

    def history(self, limit=50):
        raise NotImplementedError

    def read_message(self, message_id):
        raise NotImplementedError

    def ack(self, message_id):
        raise NotImplementedError

    def high_water(self):
        """The id below which every message is settled for the caller (the hooks' mail stamp)."""
        raise NotImplementedError

    def recent_messages(self, limit=20, after_id=0):
        raise NotImplementedError

    # -- the journal ----------------------------------------------------------
    def add_entry(self, kind, message, path=None):
        """`log --type T --message M [--file P]`: checked, then appended to the activity feed. Returns its id."""
        raise NotImplementedError

    def decide(self, text):
        raise NotImplementedError

    def decisions(self, limit=None):
        raise NotImplementedError

    def recent_activity(self, limit=20, after_id=0):
        raise NotImplementedError

    # -- upkeep ---------------------------------------------------------------
    def gc(self):
        """Expired locks, decayed presence, bounded history. Returns counts of what went."""
        raise NotImplementedError

    def snapshot(self):
        """A context manager under which reads agree with each other."""
        raise NotImplementedError

    @property
    def case_insensitive(self):
        """Are lock keys case-folded (a case-insensitive filesystem holds the state)?"""
        raise NotImplementedError

    @property
    def location(self):
        """Where the state lives, for people (a file path, or the etcd endpoints and namespace)."""
        raise NotImplementedError

    def version(self):
        """A value that changes whenever anyone commits (live views poll it)."""
        raise NotImplementedError


def open_store(ctx, choice=None):
    """The store this repository is configured for (core.backend), or the one `choice` names."""
    from . import backend

    choice = ctx.backend = choice or backend.resolve(ctx.root)
    if not choice.is_etcd:
        from .sqlite_store import SqliteStore

        return SqliteStore(ctx)
    from .etcd.store import EtcdStore

    namespace = choice.namespace(ctx.root)
    return EtcdStore(choice.client(timeout=ctx.busy_timeout), namespace, ctx.root, ctx=ctx)
