"""OpenAI Codex CLI: Claude-shaped hooks, with file edits sent as `apply_patch` envelopes.

Wired in <repo>/.codex/hooks.json. A refusal is exit 2 with the reason on
stderr, plus the `permissionDecision: "deny"` JSON on stdout. Hook payloads
carry Codex's session id, which its shells do not export (CODEX_THREAD_ID
names a thread, not the session), so session start tells the agent its id.
"""

from . import patchpaths
from . import adapters, claude, model

EVENTS = {
    "SessionStart": model.SESSION_START,
    "UserPromptSubmit": model.PROMPT,
    "PreToolUse": model.PRE_TOOL,
    "PostToolUse": model.POST_TOOL,
    "Stop": model.STOP,
    "SessionEnd": model.SESSION_END,  # newer releases only, so install does not wire it
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
        return adapters.shell(kind, tool_name, adapters.mapping(tool_input).get("command"), **fields)
    if tool_name in claude.EDIT_TOOLS:
        path = adapters.mapping(tool_input).get(claude.EDIT_TOOLS[tool_name])
        return adapters.edit(kind, tool_name, [path], **fields)
    return model.Event(kind, tool_name=tool_name, **fields)


def render(event, outcome):
    code, out, err = claude.render(event, adapters.hinted(event, outcome))
    if outcome.block_reason and event.kind == model.PRE_TOOL:
        out = adapters.dumps({"hookSpecificOutput": {
            "hookEventName": "PreToolUse", "permissionDecision": "deny",
            "permissionDecisionReason": outcome.block_reason}})
    return code, out, err
