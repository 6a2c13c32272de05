"""GitHub Copilot CLI: preToolUse guards `edit`, `create` and the shell tools.

Wired in <repo>/.github/hooks/agent-sync.json with camelCase event names,
so payloads carry `toolName` and `toolArgs`, the arguments as a JSON string.
Copilot treats a non-zero exit as a failed hook and carries on, so a refusal
is exit 0 with `{"permissionDecision": "deny", ...}`. Its prompt hook cannot
add context, so messages are not pushed per prompt; agentStop can block.

Identity: like Windsurf, the payload's sessionId is not used: the bash tool
does not export it and sessionStart output is ignored, so nothing could tell
the agent its id. Hooks resolve as the agent's shell does (AGENT_SYNC_ID, a
session variable, or the repo's local id), so its own CLI locks stay its own.
"""

from . import fastjson
from . import adapters, model

EVENTS = {
    "sessionStart": model.SESSION_START,
    "preToolUse": model.PRE_TOOL,
    "postToolUse": model.POST_TOOL,
    "agentStop": model.STOP,
    "sessionEnd": model.SESSION_END,
}
EDIT_TOOLS = ("edit", "create", "write")
SHELL_TOOLS = ("bash", "powershell", "shell")
PATH_KEYS = ("path", "file_path", "filePath")
END_REASONS = {"user_exit": "prompt_input_exit"}


def _arguments(payload):
    """toolArgs (a JSON string, or already an object), or the VS Code form's tool_input."""
    raw = payload.get("toolArgs", payload.get("tool_input"))
    if isinstance(raw, str):
        raw = fastjson.loads(raw)
    return adapters.mapping(raw)


def parse(event_name, payload):
    kind = EVENTS[event_name]
    reason = adapters.text(payload.get("reason"))
    fields = {"cwd": adapters.first_text(payload, "cwd"), "source": payload.get("source"),
              "end_reason": END_REASONS.get(reason, reason)}
    tool_name = adapters.first_text(payload, "toolName", "tool_name")
    if tool_name in EDIT_TOOLS:
        return adapters.edit(kind, tool_name, [adapters.first_text(_arguments(payload), *PATH_KEYS)], **fields)
    if tool_name in SHELL_TOOLS:
        return adapters.shell(kind, tool_name, _arguments(payload).get("command"), **fields)
    return model.Event(kind, tool_name=tool_name, **fields)


def render(event, outcome):
    note = outcome.note or ""
    if outcome.block_reason:
        body = {"permissionDecision": "deny", "permissionDecisionReason": outcome.block_reason}
        return 0, adapters.dumps(body), outcome.block_reason
    if outcome.stop_reason:
        return 0, adapters.dumps({"decision": "block", "reason": outcome.stop_reason}), note
    return 0, "", note
