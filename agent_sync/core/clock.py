"""Stored times bounded by what their rules allow from now, and times shown with their date.

A row written while the system clock ran ahead carries future times: a lock that
would hold long past its TTL once the clock is set right, an agent "seen" tomorrow
that never turns stale. `settle` writes each such time back to the most its rule
allows from now (a lock's expiry: now + its TTL; a check-in or creation time: now),
so the row then ages normally. `skewed` is the cheap question asked before it.
"""

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .db import Database

SLACK = 5.0  # seconds of skew between processes' clocks that is left alone

# (table, column) pairs whose time can be no later than now, each with an index on it
_SEEN = (("agents", "last_seen"), ("messages", "created_at"), ("activity", "created_at"))


def skew_query(now: float) -> "tuple[str, dict[str, float]]":
    """(SQL, parameters) of `skewed`'s question: one statement, since every command asks it."""
    checks = [f"EXISTS (SELECT 1 FROM {table} WHERE {column} > :ahead)" for table, column in _SEEN]
    checks.append("EXISTS (SELECT 1 FROM locks WHERE expires_at > :ahead + ttl OR created_at > :ahead)")
    return "SELECT " + " OR ".join(checks), {"ahead": now + SLACK}


def skewed(db: "Database", now: float) -> bool:
    """True when some stored time lies further in the future than its rule allows."""
    row = db.one(*skew_query(now))
    return bool(row and row[0])


def settle(db: "Database", now: float) -> int:
    """Clamp every future time to what its rule allows from now (inside a write). Returns rows changed."""
    changed = 0
    for table, column in _SEEN:
        changed += db.execute(f"UPDATE {table} SET {column} = ? WHERE {column} > ?", (now, now + SLACK)).rowcount
    locks = db.execute("UPDATE locks SET expires_at = MIN(expires_at, ? + ttl), created_at = MIN(created_at, ?)"
                       " WHERE expires_at > ? + ttl OR created_at > ?", (now, now, now + SLACK, now + SLACK)).rowcount
    if locks:
        db.locks_changed()
    return changed + locks


def shown(ts: float, now: float | None = None) -> str:
    """`HH:MM` for a time today (UTC), `YYYY-MM-DD HH:MM` for any other day."""
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() if now is None else now))
    text = time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))
    return text[11:] if text.startswith(day) else text


def shown_iso(iso_text: str | None, now: float | None = None) -> str:
    """`shown` for an ISO 8601 UTC text (`2026-12-02T05:42:33Z`)."""
    if not iso_text:
        return "--:--"
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() if now is None else now))
    return iso_text[11:16] if iso_text.startswith(day) else f"{iso_text[:10]} {iso_text[11:16]}"


def iso(ts: float | None) -> str | None:
    """An instant as UTC ISO 8601 to the second (what --json and the MCP tools report)."""
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
