"""Waking an idle Claude Code session when a message arrives for it.

Claude Code runs this hook at Stop as an `async` + `asyncRewake` command: it
runs in the background while the session is idle, and when it exits 2 its
stderr wakes the model. The waiter watches the mail stamp (one small file
read every POLL seconds; SQLite is opened only when the stamp moves), takes
what arrived exactly once, like every other channel, and exits 2 with it.

It exits 0 without waking when it is no longer needed:
- its session went busy (the prompt hook retires it), ended (session-end),
  or started a newer waiter (one waiter per agent, by a token file);
- the Claude Code process it serves is gone (CLAUDE_PID, and a changed
  parent on POSIX), even when it was killed without running any hook;
- AGENT_SYNC_WAKE_FOR (default 4h) has passed: a hard cap on its life.

It never waits in a session that would have to wait for it: `claude -p` and
the SDKs run such hooks synchronously, so there it returns at once.
"""

import os
import time

from ..core import config, mailstamp
from . import model, push

WAKE_VAR = "AGENT_SYNC_WAKE"
DIRECTED, ALL, OFF = "directed", "all", "off"
POLL = 0.2  # seconds between looks at the stamps: a wake comes well inside 2 s
ADVICE = ("agent-sync: a message for you arrived while this session was idle. Read it; reply "
          "(agent-sync send --to <sender> --message ...) or act on it if it concerns your work, then stop.")


def wake_mode(environ=os.environ):
    """`directed`, `all` or `off`; any other value is the default, with a note on stderr."""
    return config.choice(WAKE_VAR, environ)


def _one_shot(environ):
    """Sessions that end with their prompt run async hooks synchronously: waiting would hold them."""
    return environ.get("CLAUDE_CODE_ENTRYPOINT", "").startswith("sdk-")


def _agent_pid(environ):
    raw = environ.get("CLAUDE_PID", "")
    return int(raw) if raw.isdigit() and int(raw) > 1 else None


# ---------------------------------------------------------------------------
# One waiter per agent: the token file


def _register(root, agent_id):
    """Become the agent's one waiter; an older waiter sees another token and leaves."""
    token = f"{os.getpid()}-{os.urandom(6).hex()}"
    path = push.waiter_path(root, agent_id)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(token)
    os.replace(tmp, path)
    return token


def _current(root, agent_id):
    try:
        with open(push.waiter_path(root, agent_id), encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _leave(root, agent_id, token):
    if _current(root, agent_id) == token:
        push.retire_waiter(root, agent_id)


# ---------------------------------------------------------------------------
# Is the session still there?


class Session:
    """The Claude Code process this waiter serves, and the parent it started with."""

    def __init__(self, environ):
        self.parent = os.getppid()
        self.agent = _agent_pid(environ)

    def gone(self):
        if os.name != "nt" and os.getppid() != self.parent:
            return True  # re-parented: whoever started us has exited
        if os.name == "nt" and not _alive(self.parent):
            return True
        return self.agent is not None and not _alive(self.agent)


def _alive(pid):
    if os.name == "nt":
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)  # signal 0: a liveness probe only (never used on Windows, where it would kill)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but not ours to signal
    return True


def _alive_windows(pid):
    import ctypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() == 5  # access denied: it exists
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


# ---------------------------------------------------------------------------
# The wait


def idle_wait(event, take, environ=os.environ, sleep=time.sleep):
    """Wait for a message while the session is idle: Outcome(wake=text), or ALLOW when there is none.

    `take(where)` takes the pending messages (exactly once) and returns the
    text to show, or None: it is the same delivery as the other channels.
    """
    if push.mode(environ) == push.PROMPT:
        return model.ALLOW
    scope = wake_mode(environ)
    if scope == OFF or _one_shot(environ) or _agent_pid(environ) is None:
        return model.ALLOW  # without CLAUDE_PID there is no session process to outlive
    from .handlers import Where

    where = Where(event)
    if not where.has_db:
        return model.ALLOW
    root, me = where.root, where.me.id
    deadline = time.time() + config.duration("AGENT_SYNC_WAKE_FOR")
    session = Session(environ)
    token = _register(root, me)
    seen = mailstamp.settled(root, me)
    checked = seen[0] if seen else -1  # everything up to here is settled for this agent
    try:
        while True:
            sleep(POLL)  # first, so the synchronous stop hook beside us delivers what it can
            if _current(root, me) != token or session.gone() or time.time() > deadline:
                return model.ALLOW
            newest = mailstamp.newest(root)
            if newest is None or newest <= checked:
                continue
            checked = newest
            text = take(where, directed_only=scope != ALL)
            if text:
                return model.Outcome(wake=f"{text}\n{ADVICE}")
    finally:
        _leave(root, me, token)
