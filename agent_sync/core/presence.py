"""Presence: whether an agent is active, stale, idle or offline, and whether it still holds its locks.

One rule, written twice only because it runs in two places: as SQL in the SQLite store's queries,
and in Python for rows already read (the etcd store). Both take the thresholds from `params`.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .store import Row

# Effective presence, from the stored state and the time since the last check-in.
STATUS_SQL = """CASE
    WHEN {a}.state = 'offline' OR {a}.last_seen < :offline_before THEN 'offline'
    WHEN {a}.state = 'idle' THEN 'idle'
    WHEN {a}.last_seen < :stale_before THEN 'stale'
    ELSE 'active' END"""

# Does this agent still hold its locks and tasks? Active and idle agents do.
HOLDS_SQL = """({a}.last_seen >= :offline_before AND (
    {a}.state = 'idle' OR ({a}.state = 'active' AND {a}.last_seen >= :stale_before)))"""


def params(now: float, stale_after: float, offline_after: float) -> dict[str, float]:
    """The named parameters STATUS_SQL and HOLDS_SQL read."""
    return {"stale_before": now - stale_after, "offline_before": now - offline_after}


def status_sql(alias: str) -> str:
    return STATUS_SQL.format(a=alias)


def holds_sql(alias: str) -> str:
    return HOLDS_SQL.format(a=alias)


def status_of(row: "Row", now: float, stale_after: float, offline_after: float) -> str:
    """STATUS_SQL for a row already read."""
    if row["state"] == "offline" or row["last_seen"] < now - offline_after:
        return "offline"
    if row["state"] == "idle":
        return "idle"
    return "stale" if row["last_seen"] < now - stale_after else "active"
