"""OpenAI Codex CLI: Claude-shaped hooks, with file edits sent as `apply_patch` envelopes.

Wired in <repo>/.codex/hooks.json. A refusal is exit 2 with the reason on
stderr, plus the `permissionDecision: "deny"` JSON on stdout. Codex exports
the payloads' session id to its shell tool as CODEX_SESSION_ID (core.identity
reads it), so CLI calls from the shell are the same agent as the hooks.
A patch typed into the shell as `apply_patch <<'EOF'` arrives as a `Bash`
command; its patch headers name the files it writes.
"""

from . import patchpaths
from . import adapters, claude, model

EVENTS = {
    "SessionStart": model.SESSION_START,
    "UserPromptSubmit": model.PROMPT,
    "PreToolUse": model.PRE_TOOL,
    "PostToolUse": model.POST_TOOL,
    "Stop": model.STOP,
    "SessionEnd": model.SESSION_END,
    "SubagentStart": model.SUBAGENT_START,  # the subagent gets the coordination state too
}
PATCH_TOOLS = ("apply_patch",)
SHELL_TOOLS = ("Bash", "shell", "exec_command", "local_shell")


def parse(event_name, payload):
    kind = EVENTS[event_name]
    fields = {"session_id": payload.get("session_id"), "cwd": payload.get("cwd"),
              "stop_active": payload.get("stop_hook_active"), "source": payload.get("source"),
              "end_reason": payload.get("reason")}
    tool_name = adapters.text(payload.get("tool_name")) or ""
    tool_input = payload.get("tool_input")
    if tool_name in PATCH_TOOLS:
        text = tool_input if isinstance(tool_input, str) else adapters.first_text(
            adapters.mapping(tool_input), "command", "input", "patch")
        return adapters.edit(kind, tool_name, patchpaths.targets(text), **fields)
    if tool_name in SHELL_TOOLS:
        command = adapters.mapping(tool_input).get("command")
        return adapters.shell(kind, tool_name, command, paths=patchpaths.in_shell(command), **fields)
    if tool_name in claude.EDIT_TOOLS:
        path = adapters.mapping(tool_input).get(claude.EDIT_TOOLS[tool_name])
        return adapters.edit(kind, tool_name, [path], **fields)
    return model.Event(kind, tool_name=tool_name, **fields)


def render(event, outcome):
    """Claude Code's shapes for context; a refusal and a stop block in the forms Codex documents."""
    outcome = adapters.hinted(event, outcome, shell_has_session=True)
    if outcome.block_reason:
        body = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                       "permissionDecisionReason": outcome.block_reason}}
        return 2, adapters.dumps(body), outcome.block_reason
    if outcome.stop_reason:
        return 0, adapters.dumps({"decision": "block", "reason": outcome.stop_reason}), outcome.note or ""
    return claude.render(event, outcome)
