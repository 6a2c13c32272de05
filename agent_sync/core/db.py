"""Connections to the coordination database: WAL, bounded waits, one writer at a time.

This is the one place where sqlite3's errors become agent-sync's own (Busy,
StorageError): nothing outside the store catches sqlite3.Error.
"""

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # the checker reads the package's stubs; the names are the C module's own
    import sqlite3

from . import lockindex, repo, schema, spool, sqlite_module
from .errors import Busy, StorageError

if not TYPE_CHECKING:
    sqlite3 = sqlite_module.load()  # the C module, without the functools it would import (see there)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, Literal, TypeVar

    T = TypeVar("T")
    Params = Sequence[object] | Mapping[str, object]  # positional (?) or named (:name) SQL parameters


class Database:
    """One connection with the project's transaction rules.

    Every write runs in `with db.write():`, a short BEGIN IMMEDIATE
    transaction; reads that must agree with each other use `db.read()`.
    """

    def __init__(self, root: str, busy_timeout: float) -> None:
        self.root = root
        self.path = repo.db_path(root)
        self.state = repo.state_dir(root)
        self.busy_timeout = busy_timeout
        self._locks_touched = False
        self._locks_removed = False
        self.case_insensitive = False
        self.conn = self._open()

    def _open(self) -> sqlite3.Connection:
        if not os.path.isdir(self.root):  # state goes only into a folder that exists; never create the root
            raise StorageError(f"{self.root} is not an existing folder; nothing was created there")
        try:
            os.makedirs(repo.state_dir(self.root), exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {repo.state_dir(self.root)}: {exc.strerror}") from None
        self.case_insensitive = repo.is_case_insensitive(self.root)
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None
        try:
            self.retrying(lambda: self._configure(conn))
        except sqlite3.Error as exc:
            conn.close()
            raise translate(exc, self.path) from None
        return conn

    def _configure(self, conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > schema.CURRENT:
            raise StorageError(
                f"{self.path} has schema version {version}, newer than this agent-sync "
                f"understands ({schema.CURRENT}); upgrade agent-sync"
            )
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL keeps committed data safe from crashes
        conn.execute("PRAGMA foreign_keys=ON")
        if version < schema.CURRENT:
            self._migrate(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            schema.apply(conn, conn.execute("PRAGMA user_version").fetchone()[0])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()

    def retrying(self, action: "Callable[[], T]", limit: float | None = None) -> "T":
        """action(), retried on a busy error SQLite returned without waiting, up to the bound.

        SQLite's busy handler covers lock waits, but not every busy answer: a
        reader that meets WAL recovery or a checkpoint by the last process to
        close can get one at once. Those pass in milliseconds.
        """
        deadline = time.monotonic() + (self.busy_timeout if limit is None else limit)
        delay = 0.005
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _run(self, sql: str, params: "Params") -> sqlite3.Cursor:
        if self.conn.in_transaction:
            return self.conn.execute(sql, params)
        return self.retrying(lambda: self.conn.execute(sql, params))

    def execute(self, sql: str, params: "Params" = ()) -> sqlite3.Cursor:
        try:
            return self._run(sql, params)
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None

    def one(self, sql: str, params: "Params" = ()) -> "sqlite3.Row | None":
        try:
            return self._run(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None

    def all(self, sql: str, params: "Params" = ()) -> "list[sqlite3.Row]":
        try:
            return self._run(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None

    def insert(self, sql: str, params: "Params" = ()) -> int:
        """Run one INSERT; the rowid of the row it added (no second statement to ask for it)."""
        row_id = self.execute(sql, params).lastrowid
        if row_id is None:
            raise StorageError(f"not an INSERT: {sql[:60]}")
        return row_id

    def scalar(self, sql: str, params: "Params" = ()) -> "Any":
        """The first column of the first row (None without a row): whatever SQL type it holds."""
        row = self.one(sql, params)
        return None if row is None else row[0]

    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def locks_changed(self, removed: bool = False) -> None:
        """Mark that this transaction changed locks, so the lock index follows: an added or extended lock
        is published before the commit, a removal only after it (a superset stays a superset when rows go)."""
        if removed:
            self._locks_removed = True
        else:
            self._locks_touched = True

    def write(self, wait: float | None = None) -> "_Write":
        """A BEGIN IMMEDIATE transaction (`with db.write():`); the lock index is kept a superset of the truth.

        `wait` (seconds) shortens the busy timeout for this one transaction.
        """
        return _Write(self, wait)

    def _begin(self, wait: float | None) -> None:
        if wait is None or wait >= self.busy_timeout:
            self.retrying(lambda: self.conn.execute("BEGIN IMMEDIATE"))
            return
        self.conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        try:
            self.retrying(lambda: self.conn.execute("BEGIN IMMEDIATE"), limit=wait)
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    def _shrink_lock_index(self) -> None:
        # Removals reach the index only after they are committed, and under the
        # write lock, so a crash can leave it too big but never too small.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            lockindex.publish(self, merge_existing=False)
            self.conn.execute("COMMIT")
        except BaseException:
            _rollback(self.conn)
            raise

    def read(self) -> "_Read":
        """A read transaction (`with db.read():`): every query inside sees one snapshot."""
        return _Read(self)


# Context managers as classes: contextlib would import collections and functools on every command.
class _Write:
    def __init__(self, db: Database, wait: float | None) -> None:
        self.db, self.wait = db, wait
        self.moved: "list[spool.Record]" = []  # spooled refusals this transaction put in the feed

    def __enter__(self) -> Database:
        db = self.db
        db._locks_touched = db._locks_removed = False
        try:
            db._begin(self.wait)
        except sqlite3.Error as exc:
            raise translate(exc, db.path) from None
        if spool.pending(db.state):  # refusals the quick path spooled join the feed first
            self._drain_spool()
        return db

    def _drain_spool(self) -> None:
        """spool.drain under a savepoint: a failure there puts the refusals back and never fails the write."""
        db = self.db
        try:
            db.conn.execute("SAVEPOINT spool")
            spool.drain(db, db.state, self.moved)
            db.conn.execute("RELEASE spool")
        except (sqlite3.Error, StorageError):
            try:
                db.conn.execute("ROLLBACK TO spool")
                db.conn.execute("RELEASE spool")
            except sqlite3.Error:
                pass
            self._give_back()
        except BaseException:
            self._undo()
            raise

    def _give_back(self) -> None:
        if self.moved:
            moved, self.moved = self.moved, []
            spool.restore(self.db.state, moved)

    def _undo(self) -> None:
        _rollback(self.db.conn)
        self._give_back()

    def __exit__(self, kind: "type[BaseException] | None", exc: BaseException | None, _tb: object) -> "Literal[False]":
        db = self.db
        if kind is not None:
            self._undo()
            if isinstance(exc, sqlite3.Error):
                raise translate(exc, db.path) from None
            return False
        try:
            if db._locks_touched:
                lockindex.publish(db, merge_existing=True)
            db.conn.execute("COMMIT")
            self.moved = []  # in the feed for good: nothing to give back from here on
        except sqlite3.Error as error:
            self._undo()
            raise translate(error, db.path) from None
        except BaseException:
            self._undo()
            raise
        if db._locks_removed:
            try:
                db._shrink_lock_index()
            except sqlite3.Error as error:
                raise translate(error, db.path) from None
        return False


class _Read:
    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> Database:
        self.db.execute("BEGIN")
        return self.db

    def __exit__(self, *_exc: object) -> "Literal[False]":
        _rollback(self.db.conn)
        return False


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def is_busy(exc: sqlite3.Error) -> bool:
    """Is this sqlite3 error another process holding the write lock past our wait?"""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def translate(exc: sqlite3.Error, path: str) -> Busy | StorageError:
    """Turn a sqlite3 error into the domain error a user can act on."""
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return Busy(f"the database is busy (another process holds the write lock): {path}")
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        from . import program  # shlex and re, for this error only

        return StorageError(f"{path} is damaged ({text}); run `{program.command('doctor', '--repair')}`")
    if "readonly" in lowered or "read-only" in lowered:
        return StorageError(f"{path} is read-only ({text})")
    if "full" in lowered or ("disk i/o" in lowered and _no_space(path)):
        return StorageError(f"no space left on the device holding {path} ({text}); free some space and retry")
    if "unable to open" in lowered:
        return StorageError(f"cannot open {path} ({text}); check the directory's permissions")
    return StorageError(f"database error on {path}: {text}")


def _no_space(path: str) -> bool:
    """Is the filesystem holding `path` full? (SQLite reports a full disk as an I/O error at times.)"""
    try:
        stats = os.statvfs(os.path.dirname(str(path)) or ".")
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
    return stats.f_bavail * stats.f_frsize < 64 * 1024

