"""`agent-sync hook [--agent NAME] EVENT`: read the payload, act, answer in the agent's format.

Everything but a genuine lock conflict exits 0: a hook must never break the
agent's session, so every failure becomes one note on stderr.
"""

import sys

from ..core import fastjson
from . import model

USAGE = ("usage: agent-sync hook [--agent NAME] EVENT  (reads the hook's JSON payload on stdin)\n"
         "NAME: claude (default), codex, gemini, cursor, windsurf, copilot; EVENT as `install --agent NAME` writes it")


def _adapter(name):
    if name == "claude":
        from . import claude

        return claude
    from . import adapters

    return adapters.get(name)


def _read_payload():
    """The payload read to its end, of any size (fastjson.read keeps memory bounded)."""
    stream = sys.stdin
    if stream is None or stream.isatty():
        return fastjson.Payload({})
    payload = fastjson.read(stream.buffer)
    if not isinstance(payload.value, dict):
        payload.problem = ("empty" if payload.size == 0 else
                           "not a JSON object (malformed, truncated, or another kind of value)")
        payload.value = {}
    return payload


def _unreadable(name, payload):
    """The one stderr line the README promises for input the hook cannot read."""
    problem = getattr(payload, "problem", None)
    if problem:
        return f"agent-sync hook: the {name} payload on stdin is {problem} (allowed; nothing was checked)"
    return None


def _unread_part(event, payload):
    """Why the event cannot be checked: a path or command was one of the strings too long to keep."""
    if not payload.dropped:
        return None
    unnamed = event.kind == model.PRE_TOOL and not event.paths and not event.command  # e.g. tool args as one string
    if unnamed or fastjson.UNREAD in (event.command or "") or any(fastjson.UNREAD in p for p in event.paths):
        return (f"agent-sync hook: a path or command in the {payload.size >> 20} MiB payload is over "
                f"{fastjson.KEEP_STRING >> 20} MiB, too long to check (allowed; nothing was checked)")
    return None


def _fail_open_note(exc):
    from ..core.errors import AgentSyncError

    if isinstance(exc, (AgentSyncError, fastjson.TooLarge)):
        text = str(exc)
    else:
        text = f"internal error {type(exc).__name__}: {exc}"
    return f"agent-sync hook: {text} (allowed; nothing was blocked)"


def main():
    """Entry for the hook command line the installer writes (no runpy, no CLI): answers as the agent expects."""
    _leave(run_hook(sys.argv[2:], by_hand=False))


def _leave(code):
    from ..__main__ import leave  # at once, without the interpreter's teardown (see there)

    leave(code)


def run_hook(argv, by_hand=True):
    """One hook call. `by_hand` (`agent-sync hook ...` typed by a person or a script) reports a
    refusal the same way for every agent, exit 2 and the reason on stderr; the installed command
    answers in the agent's own format instead (Claude Code: a deny decision on exit 0)."""
    agent = "claude"
    if argv[:1] == ["--agent"] and len(argv) >= 2:
        agent, argv = argv[1], argv[2:]
    elif argv[:1] and argv[0].startswith("--agent="):
        agent, argv = argv[0].split("=", 1)[1], argv[1:]
    if not argv or any(word in ("-h", "--help") for word in argv):
        print(USAGE)
        return 0
    try:
        adapter = _adapter(agent)
    except KeyError:
        print(f"agent-sync hook: unknown agent {agent!r} (allowed)", file=sys.stderr)
        return 0
    name = argv[0]
    if name not in adapter.EVENTS:
        print(f"agent-sync hook: unknown event {name!r}; expected one of {', '.join(adapter.EVENTS)} (allowed)",
              file=sys.stderr)
        return 0
    event = None
    try:
        payload = _read_payload()
        event = adapter.parse(name, payload.value)
        unread = _unreadable(name, payload) or _unread_part(event, payload)
        if unread:
            return _answer(adapter, event, model.Outcome(note=unread), by_hand)
        if event.kind == model.PRE_TOOL and event.tool == model.OTHER:
            return 0  # not a write: answer before importing anything else
        if event.kind == model.PRE_TOOL and event.tool == model.EDIT:
            quick = _quick_edit(event)
            if quick is not None:
                return _answer(adapter, event, quick, by_hand)
        if event.kind == model.PROMPT and _quickly_allowed(event):
            return _answer(adapter, event, model.ALLOW, by_hand)
        if event.kind == model.POST_TOOL and event.tool == model.OTHER:
            if _quickly_allowed(event):
                return 0  # nothing written, nothing new: the stamps said so, without even `os`
            from . import push

            if push.quiet(event):
                return 0  # the same answer, for worktrees, settings and local ids
        from ..core import perms
        from .handlers import handle

        perms.restrict_umask()  # whatever the hook creates (database, stamps) stays ours alone to write
        outcome = handle(event)
    except Exception as exc:  # noqa: BLE001 - the fail-open boundary
        outcome = model.Outcome(note=_fail_open_note(exc))
    return _answer(adapter, event, outcome, by_hand)


def _quickly_allowed(event):
    """True when the os-free checks (core/quickstamp.py) prove a prompt or quiet tool call needs
    nothing: nothing waits (and, for a prompt, no idle waiter is left to retire). False means the
    full path decides."""
    import time

    from ..core import quickstamp

    return quickstamp.settled(event.cwd, event.session_id, time.time(), no_waiter=event.kind == model.PROMPT) is True


def _quick_edit(event):
    """The answer for an edit without the store, or None when the full path decides: allowed when the
    lock index shows no other agent's lock that could cover a target (no `os` even), else the
    database's own answer read directly (core/refusal.py)."""
    import time

    from ..core import quickstamp

    now = time.time()
    check = quickstamp.edit_check(event.cwd, event.session_id, event.paths, now)
    if check is None:
        return None
    if not check.may_block:
        return model.ALLOW
    from ..core import refusal

    found = refusal.confirm(check, event.tool_name, now)
    if found is None:
        return None
    if found is False:
        return model.ALLOW
    return model.refused(found.explanation, found.log_error)


def _answer(adapter, event, outcome, by_hand):
    code, out, err = adapter.render(event or model.Event(model.PRE_TOOL), outcome)
    if by_hand and outcome.block_reason:
        code, out, err = 2, "", "\n".join(t for t in (outcome.block_reason, outcome.note) if t)
    _write(sys.stdout, out)
    _write(sys.stderr, err)
    return code


def _write(stream, text):
    if not text:
        return
    try:
        stream.write(text if text.endswith("\n") else text + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass
