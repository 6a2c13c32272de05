"""Settings read from the environment, with their documented defaults.

A value that does not parse never turns a feature off or stops a command: the
setting falls back to its default, and the process says so once on stderr
(hooks included, which then still enforce). `problems()` is the same check
for `doctor`, over any environment (a settings file's `env` block, say).
"""

import sys

from . import quickstamp
from .durations import parse_duration
from .errors import UsageError

TYPE_CHECKING = False  # typing costs ~10 ms to import, on every command and hook; the checker sees it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TypeVar

    _T = TypeVar("_T")

# name: (default, meaning). Durations accept 30s / 10m / 2h / 1d.
DURATIONS = {
    "AGENT_SYNC_STALE_AFTER": ("30m", "an active agent silent this long turns stale"),
    "AGENT_SYNC_OFFLINE_AFTER": ("4h", "a stale or idle agent silent this long turns offline"),
    "AGENT_SYNC_BUSY_TIMEOUT": ("5s", "how long CLI writes wait for a busy database"),
    "AGENT_SYNC_HOOK_BUSY_TIMEOUT": ("1.5s", "how long hooks wait before failing open"),
    "AGENT_SYNC_RETENTION": ("14d", "activity and messages older than this are pruned by gc"),
    "AGENT_SYNC_CACHE_STALE": ("5s", "etcd: hooks distrust a lock cache the engine confirmed longer ago"),
    "AGENT_SYNC_WATCHER_IDLE": ("10m", "etcd: the cache watcher exits after this long without hooks or CLI"),
    "AGENT_SYNC_WAKE_FOR": ("4h", "the longest an idle Claude Code session's waiter waits for a message"),
}
COUNTS = {
    "AGENT_SYNC_KEEP_ACTIVITY": (20000, "most activity rows kept"),
    "AGENT_SYNC_KEEP_MESSAGES": (5000, "most messages kept"),
}
DEFAULT_TTL = 60 * 60
CHECKIN_THROTTLE = quickstamp.CHECKIN_THROTTLE
AUTO_LEASE = ("AGENT_SYNC_AUTO_LEASE", "10m")  # how long an edit's automatic lease outlives the edit
OFF_WORDS = ("off", "0", "no", "false")
ON_WORDS = ("1", "true", "yes", "on")
# name: (default, allowed values) for settings that pick one of a few words.
CHOICES = {
    "AGENT_SYNC_PUSH": ("tool", ("tool", "prompt")),
    "AGENT_SYNC_WAKE": ("directed", ("directed", "all", "off")),
}
FLAGS = ("AGENT_SYNC_AUTO_CLAIM", "AGENT_SYNC_AUTO_RELEASE_LOCKS", "AGENT_SYNC_DEBUG")
MAX_COUNT = 10 ** 9

_noted: set[str] = set()


def _environ(given: "Mapping[str, str] | None") -> "Mapping[str, str]":
    """`given`, or the process's environment (the hooks' quick paths pass theirs and never load os)."""
    if given is not None:
        return given
    import os

    return os.environ


def _fallback(name: str, raw: object, wanted: str, default: "_T") -> "_T":
    """The default, after one stderr line per setting and process."""
    if name not in _noted:
        _noted.add(name)
        print(f"agent-sync: {name}={str(raw)[:60]!r} is not {wanted}; using the default {default}",
              file=sys.stderr, flush=True)
    return default


def _lease_off(raw: object) -> bool:
    return raw is not None and str(raw).strip().lower() in OFF_WORDS


def _duration(name: str, raw: object) -> tuple[float | None, str]:
    """(seconds, or None when `raw` does not parse; what was wanted). Unset or empty is the default."""
    text = "" if raw is None else str(raw).strip()
    if name == AUTO_LEASE[0]:
        return _parse(text or AUTO_LEASE[1]), "a valid duration (or `off`)"
    return _parse(text or DURATIONS[name][0]), "a valid duration (e.g. 30s, 10m, 2h)"


def _parse(text: str) -> float | None:
    try:
        return parse_duration(text.strip(), bare_unit="s") if text.isascii() else None
    except UsageError:
        return None


def duration(name: str, environ: "Mapping[str, str] | None" = None) -> float:
    """Seconds configured for `name`, or its default."""
    raw = _environ(environ).get(name)
    seconds, wanted = _duration(name, raw)
    if seconds is None:
        return parse_duration(_fallback(name, raw, wanted, DURATIONS[name][0]), bare_unit="s")
    return seconds


def auto_lease(environ: "Mapping[str, str] | None" = None) -> float | None:
    """Seconds an automatic lease lasts after an edit, or None when the feature is off."""
    name, default = AUTO_LEASE
    raw = _environ(environ).get(name)
    if _lease_off(raw):
        return None
    seconds, wanted = _duration(name, raw)
    if seconds is None:
        return parse_duration(_fallback(name, raw, wanted, default), bare_unit="s")
    return seconds


def _count(raw: str | None) -> int | None:
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_COUNT:
        return None
    return int(text)


def count(name: str, environ: "Mapping[str, str] | None" = None) -> int:
    """Whole number configured for `name`, or its default."""
    raw = _environ(environ).get(name)
    if not raw:
        return COUNTS[name][0]
    value = _count(raw)
    if value is None:
        return _fallback(name, raw, f"a whole number from 1 to {MAX_COUNT}", COUNTS[name][0])
    return value


def choice(name: str, environ: "Mapping[str, str] | None" = None) -> str:
    """One of the allowed words for `name` (case-insensitive), or its default."""
    raw = _environ(environ).get(name, "")
    default, allowed = CHOICES[name]
    value = raw.strip().lower() or default
    if value not in allowed:
        return _fallback(name, raw, f"one of {', '.join(allowed)}", default)
    return value


def flag(name: str, environ: "Mapping[str, str] | None" = None) -> bool:
    """True when an opt-in variable is set to 1/true/yes/on; anything unknown is off, with a note."""
    raw = _environ(environ).get(name, "")
    value = raw.strip().lower()
    if value and value not in ON_WORDS and value not in OFF_WORDS:
        return _fallback(name, raw, "1 or 0 (on or off)", False)
    return value in ON_WORDS


def problems(environ: "Mapping[str, object]") -> list[tuple[str, str, str]]:
    """(name, value, what it should be) for each agent-sync setting in `environ` that would fall back."""
    env = {k: str(v) for k, v in environ.items()}
    found = []
    for name in (*DURATIONS, AUTO_LEASE[0]):
        if name in env and not (name == AUTO_LEASE[0] and _lease_off(env[name])):
            seconds, wanted = _duration(name, env[name])
            if seconds is None:
                found.append((name, env[name], wanted))
    for name in COUNTS:
        if env.get(name) and _count(env[name]) is None:
            found.append((name, env[name], f"a whole number from 1 to {MAX_COUNT}"))
    for name, (_default, allowed) in CHOICES.items():
        value = str(env.get(name, "")).strip().lower()
        if value and value not in allowed:
            found.append((name, env[name], f"one of {', '.join(allowed)}"))
    for name in FLAGS:
        value = str(env.get(name, "")).strip().lower()
        if value and value not in ON_WORDS + OFF_WORDS:
            found.append((name, env[name], "1 or 0 (on or off)"))
    return found
