"""Which adapter speaks for which agent, and the small pieces adapters share.

An adapter is a module with EVENTS (the agent's event name -> model kind),
parse(event_name, payload) -> model.Event and render(event, outcome) ->
(exit code, stdout, stderr). The handlers never see agent names: only the
adapter knows how an agent spells a tool, a session or a refusal.

Everything here runs on the hook fast path: no `json`, no `re`, no SQLite.
"""

import os

from . import model

AGENTS = ("claude", "codex", "gemini", "cursor", "windsurf", "copilot")
SKILL_PYZ = ".claude/skills/agent-sync/agent-sync.pyz"  # where install puts the archive, from the repository root


def get(name):
    """The adapter module for `name`; KeyError for an agent we have no adapter for."""
    if name not in AGENTS:
        raise KeyError(name)
    if name == "claude":
        from . import claude as adapter
    elif name == "codex":
        from . import codex as adapter
    elif name == "gemini":
        from . import gemini as adapter
    elif name == "cursor":
        from . import cursor as adapter
    elif name == "windsurf":
        from . import windsurf as adapter
    else:
        from . import copilot as adapter
    return adapter


def mapping(value):
    return value if isinstance(value, dict) else {}


def text(value):
    """value if it is a non-empty string, else None (payload fields can be anything)."""
    return value if isinstance(value, str) and value else None


def first_text(source, *keys):
    """The first non-empty string among source[key] for keys."""
    for key in keys:
        value = source.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def edit(kind, tool_name, paths, **fields):
    """An Event for a tool that writes `paths`."""
    return model.Event(kind, tool=model.EDIT, tool_name=tool_name, paths=paths, **fields)


def shell(kind, tool_name, command, paths=(), **fields):
    """An Event for a shell command. An argv list is quoted back into one command line.

    `paths` are writes the adapter already knows of, beyond what the shell parser will find.
    """
    if isinstance(command, list) and all(isinstance(word, str) for word in command):
        command = " ".join(_quote(word) for word in command)
    return model.Event(kind, tool=model.SHELL, tool_name=tool_name, command=command, paths=paths, **fields)


def _quote(word):
    return "'" + word.replace("'", "'\\''") + "'"


def dumps(value):
    from ..core import fastjson

    return fastjson.dumps(value)


def identity_hint(event, shell_has_session=False):
    """One line telling an agent how to run agent-sync as itself.

    For agents whose shell tool does not export the session id: without the
    hint their CLI calls would fall back to the repository's local id, and a
    lock taken that way would then block the agent's own edits. Agents whose
    shell does export it (`shell_has_session`) only need the MCP part.
    """
    if os.environ.get("AGENT_SYNC_ID") or not event.session_id:
        return ""
    from ..core import suggest
    from ..core.identity import session_agent_id

    agent_id = session_agent_id(event.session_id)
    mcp = f"with the agent-sync MCP tools, call register with agent_id={agent_id} first"
    if shell_has_session:
        return f"\nagent-sync knows this session as {agent_id}; your shell commands already run as it. To use {mcp}."
    head = suggest.line([f"AGENT_SYNC_ID={agent_id}", "python3", "-I", "-S", SKILL_PYZ])
    return (f"\nagent-sync knows this session as {agent_id}. Your shell does not carry that id: run agent-sync "
            f"from the repository root as `{head} ...`, and {mcp}, so your locks and tasks count as yours.")


def hinted(event, outcome, shell_has_session=False):
    """The outcome, with the identity hint added to session-start context."""
    if event.kind != model.SESSION_START or not outcome.context:
        return outcome
    hint = identity_hint(event, shell_has_session)
    if not hint:
        return outcome
    return model.Outcome(block_reason=outcome.block_reason, context=outcome.context + hint,
                         stop_reason=outcome.stop_reason, note=outcome.note, wake=outcome.wake)
