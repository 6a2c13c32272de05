"""The shape of every etcd store write: read at one revision, decide, commit if unchanged.

transact() reads the ranges a rule needs in one read-only txn (so they agree,
at revision R), lets `decide(view)` apply the shared rule modules and return
a Plan, then commits the plan's writes in one txn whose compares say that no
key in the watched ranges was created or rewritten after R. Deletions after R
pass the compare: a rule that depends on a key staying put compares it itself
(Plan.same). A failed compare means someone else committed first: read again.

Each call carries one nonce for all its attempts. The commit creates
P/nonces/<nonce> holding the result, and fails if it exists: an attempt whose
reply was lost (the client then tries another member) is found on the next
read, and its stored result is returned, so nothing is granted twice.
"""

from typing import TYPE_CHECKING, Any


import os
import random
import time

from ..errors import Busy
from .keys import dumps, loads
from .wire import compare, op_delete, op_put, op_range, prefix_end

NONCE_KEEP = 3600  # seconds: a retry comes within the busy timeout, so an hour is ample
BACKOFF_MIN, BACKOFF_MAX = 0.002, 0.05


def new_nonce() -> Any:
    return f"{time.time_ns():020d}-{os.urandom(6).hex()}"


def translated() -> Any:
    """etcd client errors as agent-sync errors (core.backend holds the mapping)."""
    from ..backend import engine_errors

    return engine_errors()


class View:
    """What one read txn saw: kvs per requested key or prefix, at one revision."""

    def __init__(self, revision: int, found: Any, counts: Any):
        self.revision, self.found, self.counts = revision, found, counts

    def under(self, prefix: str) -> Any:
        return self.found.get(prefix, [])

    def one(self, key: str) -> Any:
        """The kv at `key`, read itself or as part of a prefix read."""
        if key in self.found:
            kvs = self.found[key]
            return kvs[0] if kvs else None
        raw = key.encode("utf-8")
        for prefix, kvs in self.found.items():
            if isinstance(prefix, str) and prefix.endswith("/") and key.startswith(prefix):
                return next((kv for kv in kvs if kv.key == raw), None)
        return None

    def value(self, key: str, default: Any = None) -> Any:
        kv = self.one(key)
        return loads(kv.value) if kv is not None else default


class Plan:
    """The writes a decision wants, the extra compares it relies on, and the caller's result."""

    def __init__(self, result: Any = None):
        self.compares: list = []
        self.result = result
        self.logged, self.tag = 0, ""  # activity rows so far (journalops.log)
        self._ops: dict = {}  # etcd refuses a txn that names one key twice: the last word on a key wins

    @property
    def ops(self) -> Any:
        return list(self._ops.values())

    def put(self, key: str, value: Any, lease: Any = 0) -> Any:
        self._ops[key] = op_put(key, value if isinstance(value, str) else dumps(value), lease)

    def delete(self, key: str, range_end: Any = None, prefix: bool = False) -> Any:
        self._ops[key if range_end is None and not prefix else (key, range_end, prefix)] = op_delete(
            key, range_end=range_end, prefix=prefix)

    def puts(self, key: str) -> Any:
        return key in self._ops

    def same(self, key: str, kv: Any) -> Any:
        """Commit only if `key` is as read: the same write (mod_revision), or still absent."""
        if kv is None:
            self.compares.append(compare(key, "create", "=", 0))
        else:
            self.compares.append(compare(key, "mod", "=", kv.mod_revision))

    @property
    def empty(self) -> Any:
        return not self._ops


def _range(what, revision):
    if isinstance(what, tuple):  # (first key, prefix): from that key to the prefix's end
        start, prefix = what
        return op_range(start, range_end=prefix_end(prefix), revision=revision)
    return op_range(what, prefix=what.endswith("/"), revision=revision)


def read(store: "EtcdStore", reads: Any, counts: Any = (), revision: int = 0) -> Any:
    """One read-only txn: every key, prefix (ending in '/') or (first key, prefix) span in `reads`,
    and the key counts of the prefixes in `counts`."""
    ops = [_range(k, revision) for k in reads]
    ops += [op_range(k, prefix=True, count_only=True, revision=revision) for k in counts]
    result = store.client.txn([], ops, timeout=store.timeout())
    found = {k: r.kvs for k, r in zip(reads, result.responses)}
    numbers = {k: r.count for k, r in zip(counts, result.responses[len(reads):])}
    return View(revision or result.revision, found, numbers)


def transact(store: "EtcdStore", watch: Any, decide: Any, peek: Any = (), counts: Any = (), finish: Any = None) -> Any:
    """Run `decide(view)` on a consistent read of `watch` + `peek` and commit its Plan atomically.

    Only keys under `watch` are compared (created or rewritten since the read
    means: decide again); `peek` ranges are read for display only.
    `finish(result, revision)` makes the call's answer from the plan's (JSON) result and the
    commit's revision (the create_revision of every key it made: lock tokens), also when the
    result comes back from a nonce record.
    """
    finish = finish or (lambda result, _revision: result)
    keys = store.keys
    nonce_key = keys.nonce(new_nonce())
    bound = store.timeout()
    deadline = time.monotonic() + bound
    delay = BACKOFF_MIN
    with translated():
        while True:
            store.ctx.tick()
            view = read(store, [*watch, *peek, nonce_key], counts)
            mine = view.one(nonce_key)
            if mine is not None:  # an earlier attempt of this call committed; its reply was lost
                return finish(loads(mine.value)["result"], mine.create_revision)
            plan = decide(view)
            if plan.empty:
                return finish(plan.result, view.revision)
            compares = [compare(k, "mod", "<", view.revision + 1, prefix=k.endswith("/")) for k in watch]
            compares += plan.compares + [compare(nonce_key, "create", "=", 0)]
            cutoff = keys.before(keys.nonces, (time.time() - NONCE_KEEP) * 1e9)
            success = plan.ops + [op_put(nonce_key, dumps({"result": plan.result})),
                                  op_delete(keys.nonces, range_end=cutoff)]
            left = max(0.05, deadline - time.monotonic())
            outcome = store.client.txn(compares, success, [op_range(nonce_key)], timeout=left)
            if outcome.succeeded:
                store.committed(outcome.revision)
                return finish(plan.result, outcome.revision)
            found = outcome.responses[0].kvs if outcome.responses else []
            if found:
                return finish(loads(found[0].value)["result"], found[0].create_revision)
            if time.monotonic() >= deadline:
                raise Busy(f"etcd: the write kept meeting newer writes for {bound:g}s; try again")
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, BACKOFF_MAX)


if TYPE_CHECKING:
    from .store import EtcdStore
