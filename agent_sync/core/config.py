"""Settings read from the environment, with their documented defaults."""

import os

from . import quickstamp
from .durations import parse_duration
from .errors import UsageError

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


def duration(name: str) -> float:
    """Seconds configured for `name`, or its default."""
    raw = os.environ.get(name) or DURATIONS[name][0]
    try:
        return parse_duration(raw, bare_unit="s")
    except UsageError:
        raise UsageError(f"{name}={raw!r} is not a valid duration") from None


def auto_lease() -> float | None:
    """Seconds an automatic lease lasts after an edit, or None when the feature is off."""
    name, default = AUTO_LEASE
    raw = os.environ.get(name, "").strip()
    if raw.lower() in OFF_WORDS:
        return None
    try:
        return parse_duration(raw or default, bare_unit="s")
    except UsageError:
        raise UsageError(f"{name}={raw!r} is not a valid duration (or `off`)") from None


def count(name: str) -> int:
    """Whole number configured for `name`, or its default."""
    raw = os.environ.get(name)
    if not raw:
        return COUNTS[name][0]
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise UsageError(f"{name} must be at least 1")
    return value


def flag(name: str) -> bool:
    """True when an opt-in variable is set to 1/true/yes."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
