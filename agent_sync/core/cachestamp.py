"""How fresh this checkout's copy of the etcd state is (etcd.stamp), read by hooks with `os` alone.

With the etcd backend the hooks read the same local files as with SQLite
(locks.idx, mail.seq, seen/<agent>); the cache watcher keeps them in step
with the engine and records here `<revision> <unix time>`: the revision it
has applied, and when the engine last confirmed that nothing newer touched
a lock. Hooks trust the files only while that time is younger than
AGENT_SYNC_CACHE_STALE (config.py).
"""

import os

from . import repo
from .quickstamp import BACKEND_VAR, CONFIG_PARTS, ETCD_STAMP  # named there, for its os-free reader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

NAME = ETCD_STAMP  # named in quickstamp, for its os-free reader
WATCHER_PID = "etcd.watcher"  # the running watcher's pid (one per checkout)
USED = "etcd.used"  # touched by the CLI: its mtime keeps an idle watcher alive


def configured(root: str, environ: "Mapping[str, str]" = os.environ) -> bool:
    """May this checkout use etcd? Cheap (no JSON): the variable, else a config file that names etcd."""
    raw = environ.get(BACKEND_VAR, "").strip().lower()
    if raw:
        return raw != "sqlite"
    try:
        with open(os.path.join(root, *CONFIG_PARTS), encoding="utf-8", errors="replace") as handle:
            return "etcd" in handle.read(65536)
    except OSError:
        return False


def path_of(root: str, name: str = NAME) -> str:
    return os.path.join(repo.state_dir(root), name)


def read(root: str) -> tuple[int, float] | None:
    """(revision, confirmed_at), or None when there is no usable stamp."""
    try:
        with open(path_of(root), encoding="utf-8") as handle:
            parts = handle.read().split()
        return int(parts[0]), float(parts[1])
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return None


def age(root: str, now: float) -> float | None:
    """Seconds since the engine last confirmed the cache (None: never)."""
    stamp = read(root)
    return None if stamp is None else max(0.0, now - stamp[1])


def write(root: str, revision: int, confirmed_at: float) -> None:
    path = path_of(root)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(repo.state_dir(root), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(f"{int(revision)} {confirmed_at!r}\n")
        os.replace(tmp, path)
    except OSError:
        try:
            os.remove(tmp)
        except OSError:
            pass  # a missing stamp reads as stale: hooks ask the engine


def forget(root: str) -> None:
    """The checkout went back to SQLite: no stamp, so no hook thinks it reads an etcd cache."""
    try:
        os.remove(path_of(root))
    except OSError:
        pass
