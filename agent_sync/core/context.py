"""Everything one command needs: the repository, the store, the caller and the clock."""

import os
import time

from . import config, identity, repo
from .store import open_store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .backend import Backend
    from .db import Database
    from .identity import Identity


class Context:
    """The per-invocation state that core functions receive."""

    db: "Database"  # the SQLite store's connection, which its domain modules use (set by that store)

    def __init__(self, root: str | None = None, cwd: str | None = None, session_id: str | None = None,
                 busy_timeout: float | None = None, allow_operator: bool = False, me: "Identity | None" = None,
                 tree: str | None = None, backend_choice: "Backend | None" = None) -> None:
        self.cwd = os.path.realpath(cwd or os.getcwd())
        self.root = root or repo.find_root(self.cwd)
        self.tree = tree or (self.root if root else repo.find_tree(self.cwd))
        self.busy_timeout = config.duration("AGENT_SYNC_BUSY_TIMEOUT") if busy_timeout is None else busy_timeout
        self.stale_after = config.duration("AGENT_SYNC_STALE_AFTER")
        self.offline_after = config.duration("AGENT_SYNC_OFFLINE_AFTER")
        self.auto_lease = config.auto_lease()  # seconds, or None when automatic leases are off
        self.backend: "Backend | None" = None  # set by open_store
        self.store = open_store(self, backend_choice)
        self._db_file = self._db_identity()
        self.me = me or identity.resolve(self.root, session_id, allow_operator=allow_operator)
        self.now = time.time()

    def _db_identity(self) -> "tuple[int, int] | None":
        """(device, inode) of the SQLite file, or None (etcd, or no file)."""
        if self.backend is not None and self.backend.is_etcd:
            return None
        try:
            st = os.stat(repo.db_path(self.root))
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def file_moved(self) -> bool:
        """True when the SQLite file this context opened was since replaced or removed (never with etcd)."""
        if self.backend is not None and self.backend.is_etcd:
            return False
        return self._db_identity() != self._db_file

    def reopen_if_replaced(self) -> "str | None":
        """For long readers (watch, console): reopen the database when its file was swapped.

        `doctor --repair` moves the damaged file aside and puts a fresh one in its
        place; an open connection would keep reading the old one forever. A file
        that is gone is not recreated here (readers create nothing): the old
        connection is kept until a new file appears. Returns what happened, or None.
        """
        if self.backend is not None and self.backend.is_etcd:
            return None
        now = self._db_identity()
        if now == self._db_file or now is None:
            return None
        self.store.close()
        self.store = open_store(self, self.backend)
        self._db_file = self._db_identity()
        return f"the database {repo.db_path(self.root)} was replaced; reading the new one"

    def tick(self) -> float:
        """Refresh the clock (long waits) and return it."""
        self.now = time.time()
        return self.now

    def presence(self) -> dict[str, float]:
        """Named parameters for the presence SQL in `agents`."""
        from . import presence

        return presence.params(self.now, self.stale_after, self.offline_after)

    def repo_path(self, raw: str) -> str:
        return repo.relative_path(self.tree, raw, self.cwd, repo_root=self.root)

    def key(self, rel: str) -> str:
        return repo.fold(rel, self.store.case_insensitive)

    def close(self) -> None:
        self.store.close()
