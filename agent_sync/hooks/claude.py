"""Claude Code's hook contract: payload in, exit code and stdout/stderr out."""

from . import model

EVENTS = {
    "session-start": model.SESSION_START,
    "user-prompt-submit": model.PROMPT,
    "pre-tool-use": model.PRE_TOOL,
    "post-tool-use": model.POST_TOOL,
    "stop": model.STOP,
    "subagent-stop": model.STOP,
    "session-end": model.SESSION_END,
    "idle-wake": model.IDLE,  # Stop, as an async + asyncRewake command
}
HOOK_NAMES = {
    model.SESSION_START: "SessionStart", model.PROMPT: "UserPromptSubmit", model.PRE_TOOL: "PreToolUse",
    model.POST_TOOL: "PostToolUse",
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
        end_reason=payload.get("reason"), source=payload.get("source"),
    )


def render(event, outcome):
    """(exit code, stdout text, stderr text) in Claude Code's format."""
    if outcome.block_reason:
        return 2, "", outcome.block_reason
    if outcome.wake:
        return 2, "", outcome.wake  # an asyncRewake hook's exit 2 wakes the session with its stderr
    note = outcome.note or ""
    if outcome.stop_reason:
        return 0, _dumps({"decision": "block", "reason": outcome.stop_reason}), note
    if outcome.context and event.kind in HOOK_NAMES:
        body = {"hookSpecificOutput": {"hookEventName": HOOK_NAMES[event.kind], "additionalContext": outcome.context}}
        return 0, _dumps(body), note
    return 0, "", note


def _dumps(value):
    import json

    return json.dumps(value, ensure_ascii=False)
