"""Fair waiting for locks: a FIFO queue across processes, with deadlock detection.

A waiter is a row in lock_waiters that its process refreshes while it polls.
A row not refreshed for STALE_WAITER seconds belongs to a process that gave
up or died, and no longer holds its place.
"""

import time

from . import agents, lockspec, presence, sanitize
from .errors import Busy, Conflict, StorageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from typing import TypeVar

    from .context import Context
    from .lockspec import Spec
    from .store import Row

    T = TypeVar("T")  # what a granted request returns
    W = TypeVar("W")  # a waiter's handle in its store's queue
    R = TypeVar("R", bound=Row)  # a waiter row
    Wanted = tuple[str, str, str]  # (mode, kind, key) of one spec a waiter asks for

STALE_WAITER = 5.0
POLL_MIN, POLL_MAX = 0.02, 0.25


def encode(specs: "Iterable[Spec]", mode: str) -> str:
    return "\n".join(f"{mode}\t{s.kind}\t{s.key}" for s in specs)


def decode(text: str) -> "Iterator[Wanted]":
    for line in text.split("\n"):
        mode, kind, key = line.split("\t", 2)
        yield mode, kind, key


def _live_waiters(ctx: "Context") -> "list[sqlite3.Row]":
    return ctx.db.all(
        "SELECT w.id, w.agent, w.specs, a.name FROM lock_waiters w JOIN agents a ON a.id = w.agent"
        " WHERE w.polled_at > ? ORDER BY w.id",
        (ctx.now - STALE_WAITER,),
    )


def ahead_of(ctx: "Context", specs: "Sequence[Spec]", mode: str,
             my_waiter: int | None = None) -> "list[sqlite3.Row]":
    """Live waiters queued before us (or at all, if we are not queued) for anything we want."""
    return queued_before(_live_waiters(ctx), ctx.me.id, specs, mode, my_waiter)


def queued_before(rows: "Iterable[R]", me: str, specs: "Sequence[Spec]", mode: str,
                  my_place: int | None = None) -> "list[R]":
    """The waiter rows (id = place in the queue, agent, specs, name) ahead of `me` for anything it wants."""
    found: "list[R]" = []
    for row in rows:
        if row["agent"] == me or (my_place is not None and row["id"] >= my_place):
            continue
        for wmode, wkind, wkey in decode(row["specs"]):
            if lockspec.conflicts(mode, wmode) and any(
                lockspec.overlaps(s.key, s.kind, wkey, wkind) for s in specs
            ):
                found.append(row)
                break
    return found


def refuse_if_queued(ctx: "Context", specs: "Sequence[Spec]", mode: str) -> None:
    """A plain lock request may not jump the queue."""
    queue_jump(specs, ahead_of(ctx, specs, mode))


def queue_jump(specs: "Sequence[Spec]", ahead: "Sequence[Row]") -> None:
    """Refuse a plain request that others queued for first."""
    if ahead:
        names = ", ".join(sorted({sanitize.quote(r["name"], 64) for r in ahead}))
        raise Conflict(f"{specs[0].path}: {names} queued first; join the queue with --wait")


def wait_for(ctx: "Context", specs: "Sequence[Spec]", mode: str, timeout: float, grant: "Callable[[], T]") -> "T":
    """Call grant() in write transactions, in queue order, until it succeeds or time runs out."""

    def attempt(waiter: int | None) -> "T | Conflict":  # a def, not a lambda: mypy infers T from it
        return _attempt(ctx, specs, mode, waiter, grant)

    return wait_loop(ctx, timeout, attempt, lambda: _enqueue(ctx, specs, mode), lambda waiter: _leave(ctx, waiter))


def wait_loop(ctx: "Context", timeout: float, attempt: "Callable[[W | None], T | Conflict]",
              enqueue: "Callable[[], W]", leave: "Callable[[W], object]") -> "T":
    """The polling loop both stores share: attempt(waiter) returns a result or the Conflict that
    stopped it; after the first refusal the caller joins the queue (enqueue() -> waiter), and
    leaves it (leave(waiter)) however the wait ends."""
    deadline = time.time() + timeout
    waiter = None
    delay = POLL_MIN
    try:
        while True:
            ctx.tick()
            outcome = attempt(waiter)
            if not isinstance(outcome, Conflict):
                return outcome
            if time.time() >= deadline:
                raise Conflict(f"{outcome} (gave up after waiting {timeout:g}s)")
            if waiter is None:
                waiter = enqueue()
            import random  # only a waiting lock pays for it

            time.sleep(min(delay * random.uniform(0.8, 1.2), max(0.0, deadline - time.time())))
            delay = min(delay * 1.5, POLL_MAX)
    finally:
        if waiter is not None:
            leave(waiter)


def _attempt(ctx: "Context", specs: "Sequence[Spec]", mode: str, waiter: int | None,
             grant: "Callable[[], T]") -> "T | Conflict":
    """One try. Returns the grant's result, or the Conflict that stopped it."""
    with ctx.db.write():
        agents.check_in(ctx)
        if waiter is not None:
            ctx.db.execute("UPDATE lock_waiters SET polled_at = ? WHERE id = ?", (ctx.now, waiter))
        ahead = ahead_of(ctx, specs, mode, waiter)
        if ahead:
            return behind(specs, ahead)
        try:
            return grant()
        except Conflict as exc:
            return exc


def behind(specs: "Sequence[Spec]", ahead: "Sequence[Row]") -> Conflict:
    return Conflict(f"{specs[0].path}: waiting behind {len(ahead)} queued agent(s)")


def _enqueue(ctx: "Context", specs: "Sequence[Spec]", mode: str) -> int:
    with ctx.db.write():
        _check_deadlock(ctx, specs, mode)
        return ctx.db.insert(
            "INSERT INTO lock_waiters (agent, specs, polled_at) VALUES (?, ?, ?)",
            (ctx.me.id, encode(specs, mode), ctx.now),
        )


def _leave(ctx: "Context", waiter: int) -> None:
    try:
        with ctx.db.write():
            ctx.db.execute("DELETE FROM lock_waiters WHERE id = ?", (waiter,))
    except (Busy, StorageError):  # the row goes stale on its own in seconds
        pass


def _clashes(wanted: "Iterable[Wanted]", mode: str, kind: str, key: str) -> bool:
    """Does any (mode, kind, key) in `wanted` conflict with a lock or request on key?"""
    return any(lockspec.conflicts(wmode, mode) and lockspec.overlaps(wkey, wkind, key, kind)
               for wmode, wkind, wkey in wanted)


def _check_deadlock(ctx: "Context", specs: "Sequence[Spec]", mode: str) -> None:
    """Refuse to wait when what we would wait for waits, directly or through others, for us.

    A queued request waits for the holders of conflicting locks, and for the
    conflicting requests queued before it (the queue is first come, first served).
    A new request joins at the back, so it waits for every conflicting request.
    """
    queue = [(row["id"], row["agent"], list(decode(row["specs"]))) for row in _live_waiters(ctx)]
    held = ctx.db.all(
        f"""SELECT l.owner, l.key, l.kind, l.mode, l.path FROM locks l JOIN agents a ON a.id = l.owner
            WHERE l.expires_at > :now AND {presence.holds_sql('a')}""",
        dict(ctx.presence(), now=ctx.now),
    )
    refuse_deadlock(ctx.me.id, specs, mode, queue, held)


def refuse_deadlock(me: str, specs: "Iterable[Spec]", mode: str, queue: "list[tuple[int, str, list[Wanted]]]",
                    held: "Sequence[Row]") -> None:
    """Raise Conflict if `me` would wait in a cycle. queue: [(place, agent, decoded specs)] in order;
    held: live lock rows of holding owners (owner, key, kind, mode, path)."""

    def waited_for(agent: str, wanted: "list[Wanted]", place: float) -> dict[str, str]:
        """{agent: what of theirs} that a request of `agent` queued at `place` waits for."""
        out: dict[str, str] = {}
        for lock in held:
            if lock["owner"] != agent and _clashes(wanted, lock["mode"], lock["kind"], lock["key"]):
                out.setdefault(lock["owner"], f"lock on {lock['path']}")
        for waiter_id, other, theirs in queue:
            if waiter_id < place and other != agent and any(_clashes(wanted, *t) for t in theirs):
                out.setdefault(other, "place in the queue")
        return out

    start = waited_for(me, [(mode, s.kind, s.key) for s in specs], float("inf"))
    seen: set[str] = set()
    for first, first_what in start.items():
        frontier = [first]
        while frontier:
            agent = frontier.pop()
            if agent in seen:
                continue
            seen.add(agent)
            for waiter_id, waiter, wanted in queue:
                if waiter != agent:
                    continue
                for holder, what in waited_for(agent, wanted, waiter_id).items():
                    if holder == me:
                        raise Conflict(
                            f"deadlock: you would wait for {first}'s {first_what}, while {agent} waits "
                            f"(directly or through others) for your {what}; release one of them first"
                        )
                    frontier.append(holder)
