"""Claude Code's hook contract: payload in, exit code and stdout/stderr out.

A refusal is `permissionDecision: "deny"` with our reason, exit 0: the model
then sees only the reason (an exit-2 refusal reaches it prefixed with
"hook error" and the hook's whole command line). A stop that must go on
returns Stop `additionalContext`, which the model reads as feedback rather
than as a hook error. SubagentStop never hands out messages: the
subagent's context is discarded when it ends, so they wait for the parent.
"""

from . import model

EVENTS = {
    "session-start": model.SESSION_START,
    "user-prompt-submit": model.PROMPT,
    "pre-tool-use": model.PRE_TOOL,
    "post-tool-use": model.POST_TOOL,
    "stop": model.STOP,
    "subagent-start": model.SUBAGENT_START,
    "subagent-stop": model.STOP,  # no longer installed; settings written by older releases still call it
    "session-end": model.SESSION_END,
    "idle-wake": model.IDLE,  # Stop, as an async + asyncRewake command
}
HOOK_NAMES = {
    model.SESSION_START: "SessionStart", model.PROMPT: "UserPromptSubmit", model.PRE_TOOL: "PreToolUse",
    model.POST_TOOL: "PostToolUse", model.SUBAGENT_START: "SubagentStart", model.STOP: "Stop",
}
EDIT_TOOLS = {"Edit": "file_path", "Write": "file_path", "MultiEdit": "file_path", "NotebookEdit": "notebook_path"}
SHELL_TOOLS = ("Bash",)


def parse(event_name, payload):
    """An Event from a Claude Code payload (any shape: bad fields become empty)."""
    kind = EVENTS[event_name]
    tool_name = payload.get("tool_name")
    if not isinstance(tool_name, str):
        tool_name = ""  # a list or object here must not reach the dict look-ups below
    tool_input = payload.get("tool_input")
    if not isinstance(tool_input, dict):
        tool_input = {}
    tool, paths, command = model.OTHER, (), None
    if tool_name in EDIT_TOOLS:
        tool, paths = model.EDIT, [tool_input.get(EDIT_TOOLS[tool_name])]
    elif tool_name in SHELL_TOOLS:
        tool, command = model.SHELL, tool_input.get("command")
    return model.Event(
        kind, session_id=payload.get("session_id"), cwd=payload.get("cwd"), tool=tool, tool_name=tool_name,
        paths=paths, command=command, stop_active=payload.get("stop_hook_active"),
        end_reason=payload.get("reason"), source=payload.get("source"), subagent=_in_subagent(event_name, payload),
    )


def _in_subagent(event_name, payload):
    """SubagentStop, and a subagent's tool calls (their payloads carry its agent_id)."""
    agent_id = payload.get("agent_id")
    return event_name == "subagent-stop" or (event_name == "post-tool-use" and isinstance(agent_id, str)
                                             and bool(agent_id))


def render(event, outcome):
    """(exit code, stdout text, stderr text) in Claude Code's format."""
    if outcome.wake:
        return 2, "", outcome.wake  # an asyncRewake hook's exit 2 wakes the session with its stderr
    note = outcome.note or ""
    if outcome.block_reason:
        body = {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                "permissionDecisionReason": outcome.block_reason}
        return 0, _dumps({"hookSpecificOutput": body}), note
    if outcome.stop_reason:
        body = {"hookEventName": "Stop", "additionalContext": outcome.stop_reason}
        return 0, _dumps({"hookSpecificOutput": body}), note
    if outcome.context and event.kind in HOOK_NAMES:
        body = {"hookSpecificOutput": {"hookEventName": HOOK_NAMES[event.kind], "additionalContext": outcome.context}}
        return 0, _dumps(body), note
    return 0, "", note


def _dumps(value):
    from ..core import fastjson

    return fastjson.dumps(value)
