"""The hooks' local copy of the etcd state: the lock index, the mail stamp and the freshness stamp.

Two kinds of writers keep it: the cache watcher (watcher.py), from watch
events, and every CLI write on etcd, from one read right after its commit,
so agents in this checkout see a new grant before the command returns.

Each writer holds a complete view of the live locks at some revision R and
merges it with the file: the result is its view, plus every entry the file
has from a revision after R (a newer writer's grant it has not seen yet).
An entry leaves only when a writer whose view is at or past the entry's
revision no longer has it (released, or its lease ran out). So the index
stays a superset of the locks any writer knew about, as lockindex needs.

The index format is lockindex's. Leases end etcd locks, not a stored expiry,
so the expiry field holds REV_BASE + the revision the entry was last
written at: far in the future for every reader, and the revision for the merge.
"""

import os
import time

from .. import cachestamp, lockindex, mailstamp, repo
from .client import op_range
from .keys import Keys, loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context
    from .client import Client
    from .wire import KeyValue

REV_BASE = 1e11  # seconds: year 5138, so readers never see these entries as expired
MUTEX = "etcd.cache.lock"
MUTEX_STALE = 2.0  # a holder that crashed: its mutex is broken after this long


def entry(keys: Keys, kv: "KeyValue") -> tuple[float, str, str, str, str]:
    """The index entry of one lock key-value."""
    lock_key, owner = keys.lock_parts(kv.key)
    value = loads(kv.value)
    return (REV_BASE + kv.mod_revision, str(value.get("kind", "file")), str(value.get("mode", "exclusive")),
            owner, lock_key)


def revision_of_entry(item: "tuple | str") -> int:
    if isinstance(item, str):
        return 0
    return int(item[0] - REV_BASE) if item[0] >= REV_BASE else 0


class View:
    """The live locks (etcd key -> index entry), the newest message id and the fold flag, at `revision`."""

    def __init__(self, revision: int, locks: dict, seq: int, fold: bool) -> None:
        self.revision, self.locks, self.seq, self.fold = revision, locks, seq, fold


def read_view(client: "Client", keys: Keys, timeout: float | None = None) -> View:
    """One consistent read of everything the cache holds."""
    result = client.txn([], [op_range(keys.locks, prefix=True), op_range(keys.seq("msgs")), op_range(keys.meta)],
                        timeout=timeout)
    lock_kvs, seq_kvs, meta_kvs = (r.kvs for r in result.responses)  # type: ignore[union-attr]
    locks = {kv.key: entry(keys, kv) for kv in lock_kvs}
    seq = number(seq_kvs[0].value) if seq_kvs else 0
    fold = bool(loads(meta_kvs[0].value).get("fold")) if meta_kvs else False
    return View(result.revision, locks, seq, fold)


def number(raw: bytes) -> int:
    try:
        value = loads(raw)
    except ValueError:
        return 0
    if isinstance(value, dict):
        value = value.get("n", value.get("last", 0))
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def publish(root: str, view: View, confirmed_at: float | None = None) -> None:
    """Merge `view` into the files (see the module docstring); `confirmed_at`: also stamp it fresh."""
    with Mutex(root):
        current = lockindex.read(root)
        newer = []
        if current is not None:
            newer = [e for e in current[1] if e != lockindex.ANY and revision_of_entry(e) > view.revision]
        lockindex.write(root, view.fold, list(view.locks.values()) + newer)
        newest = mailstamp.newest(root)
        if newest is None or view.seq > newest:
            mailstamp.publish(root, view.seq)
        if confirmed_at is not None:
            stamp = cachestamp.read(root)
            if stamp is None or view.revision >= stamp[0]:
                cachestamp.write(root, view.revision, confirmed_at)


def refresh(client: "Client", keys: Keys, root: str, timeout: float | None = None) -> View:
    """Read the engine and merge: a CLI write calls this so the grant is local before it returns."""
    sent = time.time()
    view = read_view(client, keys, timeout)
    publish(root, view, confirmed_at=sent)
    return view


class Mutex:
    """A short cross-process mutex over the read-merge-write (O_EXCL: no fcntl, works on Windows)."""

    def __init__(self, root: str) -> None:
        self.path = os.path.join(repo.state_dir(root), MUTEX)
        self.held = False

    def __enter__(self) -> "Mutex":
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        deadline = time.monotonic() + 2 * MUTEX_STALE
        while True:
            try:
                os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                self.held = True
                return self
            except FileExistsError:
                try:
                    if time.time() - os.stat(self.path).st_mtime > MUTEX_STALE:
                        os.remove(self.path)  # its holder died mid-merge
                        continue
                except OSError:
                    continue
                if time.monotonic() > deadline:
                    return self  # write anyway: a merge lost to a hung holder is redone by the watcher's next event
                time.sleep(0.002)

    def __exit__(self, *_exc: object) -> None:
        if self.held:
            try:
                os.remove(self.path)
            except OSError:
                pass


def after_use(ctx: "Context", refresh_now: bool = True) -> None:
    """A CLI command or session start on etcd: keep the watcher alive (or start it) and refresh the cache.

    Best effort: the command itself has succeeded or failed already, so an
    engine that stops answering now only leaves the cache to the watcher.
    """
    from . import watcher
    from .errors import EtcdError

    store: Any = ctx.store  # an EtcdStore: its client and key layout
    watcher.touch_used(ctx.root)
    watcher.start(ctx.root)
    if refresh_now:
        try:
            refresh(store.client, store.keys, ctx.root, timeout=min(2.0, ctx.busy_timeout))
        except (EtcdError, OSError, ValueError):
            pass
