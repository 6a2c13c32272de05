"""Checks of the coordination state, and the rebuild of a damaged database (what `doctor` runs).

The checks read the database through a read-only connection and never
migrate or change it: the file itself, integrity, schema version, WAL,
permissions, orphaned rows, expired locks, the lock index and mail stamps
the hooks rely on, and leftovers of killed writers. Every finding is one
line with a fix. Nothing here prints or runs a hook: the `doctor` command
adds the hook probe and the report.

`repair` on a damaged database moves it aside with a UTC timestamp
(state.sqlite.damaged-YYYYmmdd-HHMMSS, with its -wal and -shm), never
deleting it, copies every row that still reads into a fresh database, and
rebuilds the lock index and mail stamps. On a sound database it removes
orphaned rows and leftover temporary files and rewrites the index and
stamps. A database from a newer agent-sync is never rewritten. Rebuild
while agents are idle: a process that still has the old file open would
write into the copy moved aside.
"""

import contextlib
import re
import os
import sqlite3
import time

from . import lockindex, mailstamp, program, repo, schema
from .db import Database

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from .lockindex import Entry

OK, NOTE, FAIL = "ok", "note", "FAIL"
# What reading a damaged file raises: SQLite's errors, and its error text when damaged bytes are not UTF-8.
READ_ERRORS = (sqlite3.Error, UnicodeDecodeError)
MAGIC = b"SQLite format 3\x00"
BIG_WAL = 64 * 1024 * 1024
# Salvage order: parents before children. lock_waiters is ephemeral and not kept.
TABLES = ("agents", "tasks", "task_files", "task_deps", "locks", "fences", "messages", "receipts", "decisions",
          "activity")
# Rows whose parent is gone: (table, how many, the statement that repairs them).
ORPHANS = (
    ("locks", "owner NOT IN (SELECT id FROM agents)", "DELETE FROM locks WHERE {w}"),
    ("locks", "task_id IS NOT NULL AND task_id NOT IN (SELECT id FROM tasks)",
     "UPDATE locks SET task_id = NULL WHERE {w}"),
    ("tasks", "owner IS NOT NULL AND owner NOT IN (SELECT id FROM agents)", "UPDATE tasks SET owner = NULL WHERE {w}"),
    ("agents", "current_task IS NOT NULL AND current_task NOT IN (SELECT id FROM tasks)",
     "UPDATE agents SET current_task = NULL WHERE {w}"),
    ("task_files", "task_id NOT IN (SELECT id FROM tasks)", "DELETE FROM task_files WHERE {w}"),
    ("task_deps", "task_id NOT IN (SELECT id FROM tasks) OR depends_on NOT IN (SELECT id FROM tasks)",
     "DELETE FROM task_deps WHERE {w}"),
    ("receipts", "message_id NOT IN (SELECT id FROM messages) OR agent_id NOT IN (SELECT id FROM agents)",
     "DELETE FROM receipts WHERE {w}"),
    ("lock_waiters", "agent NOT IN (SELECT id FROM agents)", "DELETE FROM lock_waiters WHERE {w}"),
)


class Finding:
    """One line of the report: how bad, which check, what was found, how to fix it."""

    def __init__(self, level: str, check: str, text: str, fix: str = "") -> None:
        self.level, self.check, self.text, self.fix = level, check, text, fix

    def __str__(self) -> str:
        fix = f" - fix: {self.fix}" if self.fix else ""
        return f"{self.level:<4}  {self.check}: {self.text}{fix}"


class Report:
    """Findings, plus what a repair needs to know about the database."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.damaged = False   # the file needs a rebuild
        self.too_new = False   # never rewrite it

    def add(self, level: str, check: str, text: str, fix: str = "") -> None:
        self.findings.append(Finding(level, check, text, fix))

    @property
    def failed(self) -> bool:
        return any(f.level == FAIL for f in self.findings)


# ---------------------------------------------------------------------------
# Checks


def diagnose(root: str) -> Report:
    """Every check of the stored state at `root`; never writes to the database."""
    report = Report()
    path = repo.db_path(root)
    _check_files(report, root, path)
    if os.path.exists(path) and os.path.getsize(path) > 0 and not report.damaged:
        try:
            with contextlib.closing(_open_read_only(path)) as conn:
                _check_database(report, root, conn)
        except READ_ERRORS as exc:
            report.damaged = True
            report.add(FAIL, "database", f"cannot be read ({exc})", program.command("doctor", "--repair"))
    return report


def _open_read_only(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5, isolation_level=None)
    conn.text_factory = _lenient_text
    conn.row_factory = sqlite3.Row
    return conn


def _check_files(report: Report, root: str, path: str) -> None:
    state = repo.state_dir(root)
    if not os.path.exists(path):
        report.add(OK, "database", f"none yet at {path} (created on first use)")
        return
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(100)
    if size and not head.startswith(MAGIC):
        report.damaged = True
        report.add(FAIL, "database", f"{path} is not an SQLite database", program.command("doctor", "--repair"))
    else:
        report.add(OK, "database", f"{path} ({size // 1024} KiB)")
    _check_permissions(report, state, path)
    wal = path + "-wal"
    if os.path.exists(wal) and os.path.getsize(wal) > BIG_WAL:
        report.add(NOTE, "wal", f"{wal} is {os.path.getsize(wal) // (1024 * 1024)} MiB (a reader kept it from "
                                "being checkpointed)", program.command("doctor", "--repair") + " checkpoints it")
    leftovers = [name for name in _temp_files(state)]
    if leftovers:
        report.add(NOTE, "temp files", f"{len(leftovers)} left by interrupted writers ({', '.join(leftovers[:3])})",
                   program.command("doctor", "--repair") + " removes them")


def _check_permissions(report: Report, state: str, path: str) -> None:
    problems = []
    for target in (state, path, path + "-wal", path + "-shm"):
        if os.path.exists(target) and not os.access(target, os.W_OK):
            problems.append(target)
    if problems:
        report.add(FAIL, "permissions", f"not writable by this user: {', '.join(problems)}",
                   "make the coordination directory and its files writable by every agent's user")
        return
    mine = os.stat(state).st_uid
    others = [t for t in (path, path + "-wal", path + "-shm") if os.path.exists(t) and os.stat(t).st_uid != mine]
    if others:
        report.add(NOTE, "permissions", f"owned by another user than the directory: {', '.join(others)}",
                   "run every agent as one user, or give the files to a shared group")
    else:
        report.add(OK, "permissions", "writable")


def _temp_files(state: str) -> "Iterator[str]":
    for folder in (state, os.path.join(state, mailstamp.SEEN_DIR)):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in sorted(names):
            if name.endswith(".tmp"):
                yield os.path.relpath(os.path.join(folder, name), state)


def _check_database(report: Report, root: str, conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > schema.CURRENT:
        report.too_new = True
        report.add(FAIL, "schema", f"version {version} is newer than this agent-sync understands ({schema.CURRENT})",
                   "upgrade agent-sync (the file was left as it is)")
        return
    if version < schema.CURRENT:
        report.add(OK, "schema", f"version {version}; the next command migrates it to {schema.CURRENT}")
    else:
        report.add(OK, "schema", f"version {version} (current)")
    try:
        verdict = [row[0] for row in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as exc:
        verdict = [str(exc)]
    if verdict != ["ok"]:
        report.damaged = True
        report.add(FAIL, "integrity", "; ".join(verdict)[:300], program.command("doctor", "--repair"))
        return
    report.add(OK, "integrity", "ok")
    missing = set(TABLES) - {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version and missing:
        report.damaged = True
        report.add(FAIL, "schema", f"tables missing: {', '.join(sorted(missing))}", program.command("doctor", "--repair"))
        return
    if not version:
        return  # an empty database: nothing below applies yet
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    report.add(OK if mode == "wal" else NOTE, "wal", f"journal mode {mode}",
               "" if mode == "wal" else "any agent-sync command switches it to WAL")
    _check_rows(report, conn)
    _check_index(report, root, conn)
    _check_stamps(report, root, conn)


def _check_rows(report: Report, conn: sqlite3.Connection) -> None:
    orphans: dict[str, int] = {}
    for table, where, _fix in ORPHANS:
        n = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}").fetchone()[0]
        if n:
            orphans[table] = orphans.get(table, 0) + n
    if orphans:
        report.add(FAIL, "orphaned rows", ", ".join(f"{t} {n}" for t, n in orphans.items()) +
                   " (rows pointing at a deleted parent)", program.command("doctor", "--repair"))
    else:
        report.add(OK, "orphaned rows", "none")
    expired = conn.execute("SELECT COUNT(*) FROM locks WHERE expires_at <= ?", (time.time(),)).fetchone()[0]
    if expired:
        report.add(NOTE, "expired locks", f"{expired} still stored (they block nothing)", program.command("gc"))
    else:
        report.add(OK, "expired locks", "none")


def _check_index(report: Report, root: str, conn: sqlite3.Connection) -> None:
    """Every live lock must be in locks.idx, or a hook could allow an edit without asking the database."""
    live = conn.execute("SELECT kind, mode, owner, key FROM locks WHERE expires_at > ?", (time.time(),)).fetchall()
    index = lockindex.read(root)
    if index is None:
        if os.path.exists(lockindex.path_of(root)):
            report.add(FAIL, "lock index", "unreadable (hooks consult the database instead: slower)",
                       program.command("doctor", "--repair"))
        else:
            report.add(OK, "lock index", "absent (hooks consult the database)")
        return
    entries = index[1]
    if lockindex.ANY not in entries:
        listed = {e[1:] for e in entries}
        missing = [r["key"] for r in live if tuple(r) not in listed]
        if missing:
            report.add(FAIL, "lock index", f"{len(missing)} live lock(s) missing, e.g. {missing[0]!r}: hooks "
                                           "could allow edits to locked files", program.command("doctor", "--repair"))
            return
    report.add(OK, "lock index", f"covers all {len(live)} live lock(s)")


def _check_stamps(report: Report, root: str, conn: sqlite3.Connection) -> None:
    """mail.seq must not lag the newest message, nor an agent's seen stamp run ahead of it."""
    newest = conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]
    stamp = mailstamp.newest(root)
    problems = []
    if stamp is not None and stamp < newest:
        problems.append(f"mail.seq says {stamp} but message #{newest} exists")
    for row in conn.execute("SELECT id, msg_hw FROM agents"):
        seen = mailstamp.settled(root, row["id"])
        if seen is not None and seen[0] > row["msg_hw"]:
            problems.append(f"seen/{row['id']} is ahead of the agent's delivered mail")
    if problems:
        report.add(FAIL, "mail stamps", "; ".join(problems[:3]) + " (hooks could hold back messages)",
                   program.command("doctor", "--repair"))
    else:
        report.add(OK, "mail stamps", "consistent")


# ---------------------------------------------------------------------------
# Repair


def repair(root: str, report: Report, busy_timeout: float) -> list[str]:
    """Fix what `report` found. Returns lines describing what was done."""
    if report.too_new:
        return ["not repairing: the database belongs to a newer agent-sync"]
    path = repo.db_path(root)
    done = []
    if report.damaged:
        done += rebuild(root, path)
    elif not os.path.exists(path):
        return ["nothing to repair"]
    done += _tidy(root, path, busy_timeout)
    return done


def rebuild(root: str, path: str) -> list[str]:
    """Move the damaged file aside and salvage what reads into a fresh database."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    aside = f"{path}.damaged-{stamp}"
    fresh = f"{path}.rebuild-{stamp}"
    old_index = lockindex.read(root)
    copied = _salvage(path, fresh)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.rename(path + suffix, aside + suffix)
    os.replace(fresh, path)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(fresh + suffix):
            os.remove(fresh + suffix)  # our own, empty after the checkpoint
    done = [f"moved the damaged database to {aside} (kept; delete it yourself once satisfied)",
            f"rebuilt {path}" + ("" if any(r.read for r in copied.values()) else ": nothing was readable")
            + "; rows per table:"]
    done += [f"  {table}: {result}" for table, result in copied.items()]
    lost = _lost_locks(path, old_index)
    if lost:
        done.append(f"WARNING: {len(lost)} lock(s) the old lock index listed were not recovered and no longer "
                    f"hold: {', '.join(lost[:5])} - their owners should lock them again")
    return done


def _lost_locks(path: str, old_index: "tuple[bool, list[Entry]] | None") -> list[str]:
    """Live entries of the pre-repair lock index that the salvaged database does not have."""
    if old_index is None:
        return []
    with contextlib.closing(sqlite3.connect(path)) as conn:
        kept = {tuple(r) for r in conn.execute("SELECT owner, key FROM locks")}
    now = time.time()
    return sorted({f"{e[4]} ({e[3]})" for e in old_index[1]
                   if not isinstance(e, str) and e[0] > now and (e[3], e[4]) not in kept})  # the one str entry is ANY


def _salvage(path: str, fresh: str) -> "dict[str, Salvaged]":
    """Copy every readable row of `path` into a new database at `fresh`. Returns rows copied per table."""
    out = sqlite3.connect(fresh, isolation_level=None)
    try:
        out.execute("PRAGMA journal_mode=WAL")
        out.execute("BEGIN IMMEDIATE")
        schema.apply(out)
        copied = {}
        source = _open_damaged(path)
        if source is None:
            copied = {table: Salvaged(0, None) for table in TABLES}
        else:
            with contextlib.closing(source):
                for table in TABLES:
                    copied[table] = _copy_table(source, out, table)
                _restore_sequences(source, out)
        for _table, where, fix in ORPHANS:
            out.execute(fix.format(w=where))
        _raise_counters(out)
        out.execute("COMMIT")
        out.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        out.close()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(fresh + suffix):
                os.remove(fresh + suffix)
        raise
    out.close()
    return copied


def _open_damaged(path: str) -> sqlite3.Connection | None:
    for uri in (f"file:{path}?mode=ro", f"file:{path}?immutable=1"):
        try:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None)
            conn.text_factory = _lenient_text  # a damaged byte in a text must not cost the row
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except READ_ERRORS:
            continue
    return None


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    except READ_ERRORS:
        return []


MAX_PROBES = 2_000_000  # rowids tried one by one inside a damaged stretch, per table
PROBE_WINDOW = 100_000  # rowids tried past the last one read when nothing says where a table ends


class Salvaged:
    """What one table gave back: rows read, and what could not be read (a count, or None: unknown)."""

    def __init__(self, read: int = 0, lost: int | None = 0, where: str = "") -> None:
        self.read, self.lost, self.where = read, lost, where

    def __str__(self) -> str:
        lost = "an unknown number" if self.lost is None else str(self.lost)
        where = f" ({self.where})" if self.where and self.lost != 0 else ""
        return f"{self.read} read, {lost} lost{where}"


def _copy_table(source: sqlite3.Connection, out: sqlite3.Connection, table: str) -> "Salvaged":
    """Every row of one table that still reads, row by row around damaged pages."""
    columns = [c for c in _columns(source, table) if c in set(_columns(out, table))]
    if not columns:
        return Salvaged(0, None if table in _names(source) else 0)
    names = ", ".join(columns)
    insert = _Inserter(out, table, columns)
    if _has_rowid(source, table):
        return _copy_by_rowid(source, out, table, names, insert)
    read: set[tuple] = set()
    clean = True
    for order in ("", " ORDER BY 1 DESC"):  # from both ends: each stops at the damage
        clean = _copy_scan(source, out, f"SELECT {names} FROM {table}{order}", insert, read) and clean
    return Salvaged(len(read), 0 if clean else None)


class _Inserter:
    """Insert salvaged rows; one a damaged byte made break a constraint is mended, not dropped.

    A NULL where the schema wants a value gets the column's default (or 0 / ''), and a
    value a CHECK refuses gets the default. A duplicate key is left out (the row is there).
    """

    def __init__(self, out: sqlite3.Connection, table: str, columns: list[str]) -> None:
        self.out, self.columns = out, columns
        marks = ", ".join("?" * len(columns))
        self.sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        info = {r[1]: r for r in out.execute(f"PRAGMA table_info({table})")}
        self.notnull = [bool(info[c][3]) for c in columns]
        self.defaults = [self._default(info[c]) for c in columns]

    def _default(self, column: tuple) -> object:
        if column[4] is not None:
            return self.out.execute(f"SELECT {column[4]}").fetchone()[0]
        return 0 if any(t in (column[2] or "").upper() for t in ("INT", "REAL")) else ""

    def __call__(self, row: "tuple | list") -> bool:
        row = list(row)
        for _attempt in range(3):
            try:
                self.out.execute(self.sql, row)
                return True
            except sqlite3.IntegrityError as exc:
                text = str(exc)
                if "UNIQUE" in text or "PRIMARY KEY" in text:
                    return False  # already salvaged from the other end (or a garbled copy of a key)
                check = text.split("CHECK constraint failed:", 1)[1] if "CHECK constraint failed:" in text else ""
                named = set(re.findall(r"[A-Za-z_]+", check.split(" IN ", 1)[0]))  # the column it names
                for i, name in enumerate(self.columns):
                    if (row[i] is None and self.notnull[i]) or name in named:
                        row[i] = self.defaults[i]
        return False


def _names(conn: sqlite3.Connection) -> set[str]:
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except READ_ERRORS:
        return set()


def _has_rowid(conn: sqlite3.Connection, table: str) -> bool:
    try:
        conn.execute(f"SELECT rowid FROM {table} LIMIT 0")
        return True
    except READ_ERRORS:
        return False


def _copy_scan(source: sqlite3.Connection, out: sqlite3.Connection, sql: str, insert: "_Inserter",
               read: set[tuple]) -> bool:
    """Copy rows from one scan until it ends (True) or meets damage (False); `read` collects them."""
    try:
        for row in source.execute(sql):
            row = tuple(row)
            if row not in read:
                read.add(row)
                insert(row)
    except READ_ERRORS:
        return False  # keep what was read before the damage
    return True


def _walk(source: sqlite3.Connection, sql: str, params: tuple, take: "Callable[[sqlite3.Row], None]"
          ) -> tuple[int, bool]:
    """Feed each row of one rowid-ordered scan to `take` until it ends or fails. Returns (rows, failed)."""
    count = 0
    try:
        for row in source.execute(sql, params):
            take(row)
            count += 1
    except READ_ERRORS:
        return count, True
    return count, False


def _copy_by_rowid(source: sqlite3.Connection, out: sqlite3.Connection, table: str, names: str,
                   insert: "_Inserter") -> "Salvaged":
    """Forward by rowid until the damage, backward from the end until it, then every rowid left.

    The scans take the long readable runs; then each rowid up to the highest one known
    is read alone (a damaged page can hide or garble a row in a scan that a lookup by
    rowid still finds whole), so a bad page costs only the rows it holds.
    """
    seen: set[int] = set()
    taken = [0]  # the rowid of the row taken last
    read_ids: set[int] = set()

    scanned: list[sqlite3.Row] = []  # rows the scans gave, inserted after the lookups by rowid, which a damaged page garbles less

    def take(row: sqlite3.Row) -> None:
        taken[0] = row[0]
        read_ids.add(row[0])
        scanned.append(row)

    select = f"SELECT rowid, {names} FROM {table}"
    _walk(source, f"{select} ORDER BY rowid", (), take)
    low = max(read_ids, default=0)
    _walk(source, f"{select} ORDER BY rowid DESC", (), take)
    bounds = _upper_bounds(source, table)
    top = max([*read_ids, *bounds], default=0)
    bounded = bool(bounds) or any(r > low for r in read_ids)
    if not bounded:
        top = low + PROBE_WINDOW  # nothing says where the table ends: look a fair way past the last row
    rowid, probes = low + 1, 0
    while rowid <= top and probes < MAX_PROBES:  # fast runs through what lies between
        probes += 1
        count, failed = _walk(source, f"{select} WHERE rowid >= ? AND rowid <= ? ORDER BY rowid", (rowid, top), take)
        if not failed:
            break
        rowid = taken[0] + 1 if count else rowid + 1
    lost, first, last = 0, None, None
    for rowid in range(1, top + 1):  # then every rowid alone: a scan of a damaged page can skip or garble one
        probes += 1
        if probes > MAX_PROBES:
            return Salvaged(len(seen), None, f"gave up after {MAX_PROBES} probes at rowid {rowid}")
        try:
            row = source.execute(f"{select} WHERE rowid = ?", (rowid,)).fetchone()
        except READ_ERRORS:
            lost += 1
            first = rowid if first is None else first
            last = rowid
            continue
        if row is not None and insert(tuple(row)[1:]):  # a copy already in is refused by its key
            seen.add(row[0])
    for row in scanned:
        if row[0] not in seen and insert(tuple(row)[1:]):
            seen.add(row[0])
    where = f"rowids {first}-{last} unreadable" if first is not None else ""
    if not bounded:  # how many rows the damaged end held is not known
        return Salvaged(len(seen), None if lost else 0, where or "")
    return Salvaged(len(seen), lost, where)


def _upper_bounds(source: sqlite3.Connection, table: str) -> list[int]:
    """Highest rowids the damaged file still admits to: MAX(rowid), sqlite_sequence."""
    found = []
    for sql, params in ((f"SELECT MAX(rowid) FROM {table}", ()),
                        ("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))):
        try:
            row = source.execute(sql, params).fetchone()
        except READ_ERRORS:
            continue
        if row and isinstance(row[0], int):
            found.append(row[0])
    return found


def _restore_sequences(source: sqlite3.Connection, out: sqlite3.Connection) -> None:
    """Keep AUTOINCREMENT counters at least where they were, so no id is ever reused."""
    try:
        rows = source.execute("SELECT name, seq FROM sqlite_sequence").fetchall()
    except READ_ERRORS:
        return
    for name, seq in rows:
        if name in TABLES:
            out.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", (seq, name))
            out.execute("INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE NOT EXISTS "
                        "(SELECT 1 FROM sqlite_sequence WHERE name = ?)", (name, seq, name))


def _raise_counters(out: sqlite3.Connection) -> None:
    """New message ids must exceed every agent's delivered mark; fencing tokens must never go back."""
    floor = out.execute("SELECT MAX(COALESCE(MAX(msg_hw), 0), COALESCE(MAX(msg_floor), 0)) FROM agents").fetchone()[0]
    out.execute("INSERT INTO sqlite_sequence (name, seq) SELECT 'messages', 0 WHERE NOT EXISTS "
                "(SELECT 1 FROM sqlite_sequence WHERE name = 'messages')")
    out.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'messages'", (floor,))
    out.execute("""INSERT INTO fences (key, token) SELECT key, MAX(token) FROM locks WHERE true GROUP BY key
                   ON CONFLICT(key) DO UPDATE SET token = MAX(token, excluded.token)""")


def _tidy(root: str, path: str, busy_timeout: float) -> list[str]:
    """On a sound database: orphans out, index and stamps rewritten from the truth, temp files gone."""
    done = []
    db = Database(root, busy_timeout)
    try:
        with db.write():
            fixed = sum(db.execute(fix.format(w=where)).rowcount for _t, where, fix in ORPHANS)
            lockindex.publish(db, merge_existing=False)
            newest = db.scalar("SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0),"
                               " COALESCE((SELECT MAX(id) FROM messages), 0))")
            mailstamp.publish(root, newest)
            seen = os.path.join(repo.state_dir(root), mailstamp.SEEN_DIR)
            for name in os.listdir(seen) if os.path.isdir(seen) else ():
                os.remove(os.path.join(seen, name))  # caches: the next hook rewrites its own
        if fixed:
            done.append(f"removed or detached {fixed} orphaned row(s)")
        done.append("rewrote the lock index and mail stamps from the database")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    state = repo.state_dir(root)
    leftovers = list(_temp_files(state))
    for name in leftovers:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(state, name))
    if leftovers:
        done.append(f"removed {len(leftovers)} temporary file(s) left by interrupted writers")
    return done
