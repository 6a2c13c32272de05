"""The pre-tool hook's answer when the lock index says a lock may cover an edit, without the store.

The store would load some forty modules, check the caller in, and write the refusal into the
activity feed: in a process that is the database's only connection, that one write creates the
WAL file, syncs it and its folder, and checkpoints and deletes it on close. Here one read
transaction asks SQLite the store's own question with the store's own rules (blocking.py), and a
refusal is spooled for the next writer to move into the feed (spool.py).

`confirm` answers with the refusal, with False (no lock covers the edit after all: the index is a
superset), or with None when anything is out of the ordinary (another schema version, stored times
to settle after a clock jump, a busy or damaged database): the store then decides, as before.
"""

from . import blocking, clock, config, lockspec, perms, presence, quickstamp, schema, spool, sqlite_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Literal

    from .quickstamp import EditCheck
    from .store import Clash


class Refusal:
    """Why the edit is refused (one line per clash), and a note when the feed could not be told."""

    __slots__ = ("explanation", "log_error")

    def __init__(self, explanation: str, log_error: "OSError | None") -> None:
        self.explanation, self.log_error = explanation, log_error


def confirm(check: "EditCheck", tool_name: str, now: float) -> "Refusal | bool | None":
    """The database's answer for the edit `check` describes (see the module's text)."""
    perms.restrict_umask()  # SQLite's WAL and shared-memory files, and the spool, stay ours alone to write
    found = _clashes(check, now)
    if found is None or found is False:
        return found  # the store decides, or no lock covers the edit
    explanation = blocking.explain(found, now)  # first: the feed never shows a refusal the hook did not make
    try:
        spool.add(check.state, check.agent, blocking.refusal_entries(found, tool_name), now)
        error = None
    except OSError as exc:
        error = exc
    return Refusal(explanation, error)


def _clashes(check: "EditCheck", now: float) -> "Sequence[Clash] | Literal[False] | None":
    env = quickstamp.environ()  # settings as os.environ holds them, without importing os
    sqlite = sqlite_module.load()
    try:
        conn = sqlite.connect(_uri(f"{check.state}/{quickstamp.DB_NAME}"), uri=True, isolation_level=None,
                              timeout=config.duration("AGENT_SYNC_HOOK_BUSY_TIMEOUT", env))
    except sqlite.Error:
        return None
    try:
        conn.row_factory = sqlite.Row
        if conn.execute("PRAGMA user_version").fetchone()[0] != schema.CURRENT:
            return None  # a migration to run, or a newer agent-sync's database: the store says which
        conn.execute("BEGIN")
        if conn.execute(*clock.skew_query(now)).fetchone()[0]:
            return None  # times to settle first (locks.blockers does)
        specs = [lockspec.Spec(key, key, lockspec.FILE) for key in check.keys]
        seen = presence.params(now, config.duration("AGENT_SYNC_STALE_AFTER", env),
                               config.duration("AGENT_SYNC_OFFLINE_AFTER", env))
        others = conn.execute(*blocking.others_query(check.agent, now, seen, bool(config.auto_lease(env)),
                                                     file_keys=check.keys)).fetchall()
        if not others:
            return False
        found = blocking.covering(specs, others, conn.execute(blocking.MINE_SQL, (check.agent, now)).fetchall())
        return found or False
    except sqlite.Error:
        return None
    finally:
        conn.close()  # a read transaction still open ends with the connection


def _uri(path: str) -> str:
    """A URI that opens the file only if it exists (never creates an empty database)."""
    escaped = path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    return f"file:{escaped}?mode=rw"
