"""Which of other agents' locks stop an edit, and how the refusal reads.

Shared by the stores (locks.py for SQLite, etcd/lockops.py) and by the pre-tool hook's quick
refusal (refusal.py), which reads SQLite without the store: the query, the covering rule, the
wording and the activity entry each live here once.
"""

from . import clock, lockspec, presence, sanitize
from .durations import format_duration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import TypeVar

    from .lockspec import Spec
    from .store import Clash, Row

    R = TypeVar("R", bound=Row)  # a lock row: sqlite3.Row here, a dict in the etcd store

LOCK_COLUMNS = ("l.id, l.key, l.path, l.kind, l.mode, l.owner, l.reason, l.task_id, l.token, l.ttl, l.created_at,"
                " l.expires_at, l.auto_lease")
MINE_SQL = "SELECT key, kind FROM locks WHERE owner = ? AND expires_at > ?"


def others_query(me: str, now: float, presence_params: "dict[str, float]", leases: bool,
                 holding_only: bool = True, file_keys: "list[str] | None" = None) -> "tuple[str, dict[str, object]]":
    """(SQL, parameters) for the unexpired locks of other agents, with their owner's name and presence.

    Without `leases` (the caller turned automatic leases off) other agents' leases are left out.
    With `file_keys`, only the locks that could cover those files: the same key, or a directory,
    pattern or resource lock.
    """
    hold = f"AND {presence.holds_sql('a')}" if holding_only else ""
    lease_filter = "" if leases else "AND l.auto_lease = 0"
    params: "dict[str, object]" = dict(presence_params, now=now, me=me)
    narrow = ""
    if file_keys is not None:
        params.update({f"k{i}": key for i, key in enumerate(file_keys)})
        narrow = f"AND (l.kind != 'file' OR l.key IN ({', '.join(f':k{i}' for i in range(len(file_keys)))}))"
    sql = f"""SELECT {LOCK_COLUMNS}, a.name AS owner_name, {presence.status_sql('a')} AS owner_status
              FROM locks l JOIN agents a ON a.id = l.owner
              WHERE l.expires_at > :now AND l.owner != :me {hold} {lease_filter} {narrow}"""
    return sql, params


def file_keys(specs: "Sequence[Spec]") -> "list[str] | None":
    """The keys to narrow others_query by, when every spec is a plain file."""
    files = [s.key for s in specs if s.kind == lockspec.FILE]
    return files if len(files) == len(specs) else None


def covering(specs: "Iterable[Spec]", others: "Sequence[R]", mine: "Sequence[Row]") -> "list[tuple[Spec, R]]":
    """[(spec, row)]: others' live locks that cover specs, unless shared and the caller shares them too."""
    found: "list[tuple[Spec, R]]" = []
    for spec in specs:
        rows = [r for r in others if lockspec.overlaps(spec.key, spec.kind, r["key"], r["kind"])]
        if not rows:
            continue
        shared_only = all(r["mode"] == "shared" for r in rows)
        if shared_only and any(lockspec.overlaps(spec.key, spec.kind, m["key"], m["kind"]) for m in mine):
            continue
        found.extend((spec, r) for r in rows)
    return found


def explain(clashes: "Iterable[Clash]", now: float) -> str:
    """One line per clash: what, who, why, until when, and how to reach them.

    Every agent-written value (paths, the owner's name, the reason) is a quoted
    value, so none can read as our words, and the ready `send` command is built
    by core.suggest, so none can run as shell code.
    """
    lines = []
    for spec, row in clashes:
        if row["auto_lease"]:
            lines.append(_lease_clash(spec, row, now))
            continue
        left = format_duration(row["expires_at"] - now)
        until = _clock(row["expires_at"], now)
        why = _shown(row["reason"]) if row["reason"] else "no reason given"
        path, held = _shown(spec.path), _shown(row["path"])
        shared = " (shared)" if row["mode"] == "shared" else ""
        if spec.key == row["key"]:
            what = f"{path} is locked{shared}"
        elif spec.kind == lockspec.FILE:
            what = f"{path} (covered by {held}) is locked{shared}"
        else:  # a pattern or directory: name both locks, since neither need contain the other
            what = f"{path} overlaps {held}, which is locked{shared}"
        ask = _ask(row, f"please release {row['path']}", "please release the lock that blocks me")
        lines.append(f"{what} by {_shown(row['owner_name'])} [{row['owner']}] - reason: {why}"
                     f" - expires in {left} ({until}). Ask them: {ask}")
    return "\n".join(lines)


def _lease_clash(spec: "Spec", row: "Row", now: float) -> str:
    """The refusal for a file another agent holds only because it edited it (an automatic lease)."""
    path, held = _shown(spec.path), _shown(row["path"])
    what = f"{path} is" if spec.key == row["key"] else f"{path} covers {held}, which is"
    edited = row["expires_at"] - row["ttl"]
    ask = _ask(row, f"I need to edit {row['path']}; tell me when you are done with it",
               "I need to edit a file you hold under an automatic lease; tell me when you are done with it")
    return (f"{what} under an automatic lease of {_shown(row['owner_name'])} [{row['owner']}]: they last edited it "
            f"{format_duration(now - edited)} ago ({_clock(edited, now)}), and the lease lapses in "
            f"{format_duration(row['expires_at'] - now)} ({_clock(row['expires_at'], now)}) unless they "
            f"edit it again. Ask them: {ask}")


def _ask(row: "Row", text: str, plain: str) -> str:
    """The `send` command to the lock's owner; `plain` (no agent text) when `text` cannot be printed safely."""
    from . import suggest  # only a refusal prints a command

    return suggest.command_or({"to": row["owner"], "message": plain}, "send", to=row["owner"], message=text)


def _clock(ts: float, now: float) -> str:
    return f"{clock.shown(ts, now)} UTC"


def _shown(text: str | None) -> str:
    return sanitize.quote(text, 300)


def refusal_entries(clashes: "Iterable[Clash]", tool_name: str) -> "list[tuple[str, str]]":
    """(path, message) for the activity feed: one entry per refused path, naming every holder."""
    owners: dict[str, list[str]] = {}
    for spec, row in clashes:
        owners.setdefault(spec.path, []).append(f"{row['owner_name']} [{row['owner']}]")
    return [(path, f"{tool_name} {path} refused: locked by {', '.join(who)}") for path, who in owners.items()]
