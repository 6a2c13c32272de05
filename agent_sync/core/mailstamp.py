"""Tiny files that let hooks skip SQLite when no message can be waiting.

`mail.seq` holds the newest message id (written inside the sending
transaction, so it is never behind a committed message). `seen/<agent>`
holds the id below which everything is settled for that agent; its mtime is
the agent's last hook check-in. Readers import nothing but `os`.
"""

import os

from . import repo
from .quickstamp import SEEN_DIR, SEQ  # noqa: F401 - named once, for the os-free reader too


def _write(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:  # a full disk: leave no partial file behind
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    try:
        os.replace(tmp, path)
    except OSError:
        os.remove(tmp)
        if os.path.exists(path):
            os.remove(path)  # a missing stamp only sends readers to the database


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def publish(root: str, message_id: int) -> None:
    _write(os.path.join(repo.state_dir(root), SEQ), f"{message_id}\n")


def newest(root: str) -> int | None:
    return _read_int(os.path.join(repo.state_dir(root), SEQ))


def _seen_path(root: str, agent_id: str) -> str:
    return os.path.join(repo.state_dir(root), SEEN_DIR, agent_id)


def mark_seen(root: str, agent_id: str, high_water: int) -> None:
    """Record the agent's settled high-water mark (and, by mtime, this check-in)."""
    try:
        os.makedirs(os.path.join(repo.state_dir(root), SEEN_DIR), exist_ok=True)
        _write(_seen_path(root, agent_id), f"{high_water}\n")
    except OSError:
        pass  # only an optimisation


def settled(root: str, agent_id: str) -> tuple[int, float] | None:
    """(high_water, seconds since the last check-in), or None when unknown."""
    path = _seen_path(root, agent_id)
    value = _read_int(path)
    if value is None:
        return None
    try:
        return value, os.stat(path).st_mtime
    except OSError:
        return None
