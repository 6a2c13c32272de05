"""Refusals waiting to enter the activity feed: one small file each, moved in by the next writer.

The pre-tool hook's quick refusal (refusal.py) reads SQLite but never writes to it: in a process that
is the database's only connection, one write creates the WAL file, syncs it and its folder, and
checkpoints and deletes it on close, which would double the refusal's cost. So the refusal goes to
`.claude/coordination/refusals/`, written whole under a hidden name and then renamed, and every write
transaction (db.py) moves what it finds there into the feed as it begins, so they come before its own
entries, each with its own time. Readers of the feed (the store's snapshot and recent activity) start
such a write first, so the feed they show holds every refusal made before it.

A file is removed in the transaction that inserts it, and written again if that transaction rolls
back: an entry is never doubled, and is lost only if the process dies in between. Logging a refusal
is best effort; the refusal itself never depends on it.
The quick refusal runs without `os`, so this module uses the builtin module `os` is made of.
"""

import sys
import time

from . import fastjson

if sys.platform == "win32":
    import nt as _fs
else:
    import posix as _fs

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os

    from collections.abc import Iterable

    from .db import Database

    Record = tuple[str, float, list[tuple[str, str]]]  # (agent, time, [(path, message)])

DIR = "refusals"
KIND = "blocked"  # the activity entry's type, as the store's own refusal log writes it
MAX_FILE = 64 * 1024  # bytes: more is not a refusal we wrote
STALE_PART = 3600.0  # seconds after which a hidden, half-written file (its writer died) is removed
_serial = 0


def add(state: str, agent: str, entries: "Iterable[tuple[str, str]]", now: float) -> None:
    """Spool (path, message) entries of `agent`'s refusal at time `now`. Raises OSError."""
    global _serial
    _serial += 1
    folder = f"{state}/{DIR}"
    try:
        _fs.mkdir(folder)
    except FileExistsError:
        pass
    name = f"{int(now * 1e6):017d}-{_fs.getpid()}-{_serial}.json"  # in the order of the refusals
    hidden = f"{folder}/.{name}"
    text = fastjson.dumps({"agent": agent, "at": now, "entries": [list(e) for e in entries]})
    try:
        with open(hidden, "w", encoding="utf-8") as handle:
            handle.write(text)
        _fs.replace(hidden, f"{folder}/{name}")
    except OSError:
        try:
            _fs.remove(hidden)
        except OSError:
            pass
        raise


_stuck: set[str] = set()  # spooled names this process could not remove: never counted again


def _waiting(entry: "os.DirEntry[str]") -> bool:
    return (entry.name.endswith(".json") and not entry.name.startswith(".") and entry.name not in _stuck
            and entry.is_file(follow_symlinks=False))


def pending(state: str) -> bool:
    """True when a refusal waits (a cheap look: one small folder, usually missing or empty)."""
    try:
        with _fs.scandir(f"{state}/{DIR}") as found:
            return any(_waiting(entry) for entry in found)
    except OSError:
        return False


def drain(db: "Database", state: str, moved: "list[Record]") -> None:
    """Inside a write transaction: move every spooled refusal into the feed, appending each to `moved`
    (for `restore`, should the transaction roll back) once its file is gone."""
    from . import journal

    folder = f"{state}/{DIR}"
    try:
        with _fs.scandir(folder) as found:
            entries = sorted(found, key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
            _remove_if_stale(entry.path)
            continue
        if not _waiting(entry):
            continue
        record = _read(entry.path)
        try:
            _fs.remove(entry.path)
        except OSError:
            _stuck.add(entry.name)  # another writer took it first, or it cannot go: never insert it twice
            continue
        if record is None:
            continue  # not ours, or damaged: gone without an entry
        moved.append(record)
        agent, at, texts = record
        for entry_path, message in texts:
            journal.insert(db, agent, KIND, message, entry_path, at)


def restore(state: str, records: "Iterable[Record]") -> None:
    """Spool again what a rolled-back transaction had moved (best effort)."""
    for agent, at, entries in records:
        try:
            add(state, agent, entries, at)
        except (OSError, ValueError, OverflowError):
            pass


def _read(path: str) -> "Record | None":
    """(agent, time, entries) of one spooled file; None for anything we did not write."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = fastjson.loads(handle.read(MAX_FILE + 1))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    agent, at, entries = value.get("agent"), value.get("at"), value.get("entries")
    if not (isinstance(agent, str) and isinstance(at, (int, float)) and isinstance(entries, list)):
        return None
    if not 0 <= at < 1e11:  # a time we could have written (no NaN or infinity)
        return None
    good = [(e[0], e[1]) for e in entries
            if isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and isinstance(e[1], str)]
    return agent, float(at), good


def _remove_if_stale(path: str) -> None:
    try:
        if time.time() - _fs.stat(path).st_mtime > STALE_PART:
            _fs.remove(path)
    except OSError:
        pass
