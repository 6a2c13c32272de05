"""Domain errors. Each carries the exit code the CLI reports for it."""

OK = 0
INTERNAL = 1
USAGE = 2
CONFLICT = 3
NOT_FOUND = 4
BUSY = 5
NOT_ALLOWED = 6
STORAGE = 7
GATE_BROKEN = 8
OUTPUT = 9

# (code, name, meaning): the one table the README and `--help` are checked against.
EXIT_CODES = (
    (OK, "ok", "success"),
    (INTERNAL, "internal", "unexpected internal error (a bug: please report it)"),
    (USAGE, "usage", "bad arguments or invalid values"),
    (CONFLICT, "conflict", "a lock is held or a task is owned by another agent"),
    (NOT_FOUND, "not-found", "no such task, message, lock or agent"),
    (BUSY, "busy", "the database stayed locked longer than the busy timeout, or etcd did not answer within it"),
    (NOT_ALLOWED, "not-allowed", "the message or object is not yours to act on"),
    (STORAGE, "storage", "the database is unreadable, read-only, full or from a newer version"),
    (GATE_BROKEN, "gate-broken", "installed, but the hook command does not run, so edits would go unchecked"),
    (OUTPUT, "output", "standard output could not be written (a full disk or a device error); a closed pipe is not an error"),
)


class AgentSyncError(Exception):
    """Base of every error the CLI turns into one line and an exit code."""

    exit_code = INTERNAL


class UsageError(AgentSyncError):
    """An argument is missing, malformed or out of range."""

    exit_code = USAGE


class Conflict(AgentSyncError):
    """Another agent holds the lock or owns the task."""

    exit_code = CONFLICT


class NotFound(AgentSyncError):
    """The named task, message, lock or agent does not exist."""

    exit_code = NOT_FOUND


class Busy(AgentSyncError):
    """The database stayed write-locked past the busy timeout."""

    exit_code = BUSY


class NotAllowed(AgentSyncError):
    """The caller may not read or change this object."""

    exit_code = NOT_ALLOWED


class OutputFailed(OSError, AgentSyncError):
    """Writing to stdout failed (ENOSPC, EIO): not the database's fault, so not exit 7.

    Still an OSError, so code that guards its printing with `except OSError` keeps working.
    """

    exit_code = OUTPUT

    def __str__(self):
        return str(self.strerror)


class StorageError(AgentSyncError):
    """The database file cannot be used as it is."""

    exit_code = STORAGE
