"""GitHub Copilot CLI: preToolUse guards `edit`, `create` and the shell tools.

Wired in <repo>/.github/hooks/agent-sync.json with camelCase event names,
so payloads carry `sessionId`, `toolName` and `toolArgs` (an object in
current releases, a JSON string in older ones). Copilot treats a non-zero
exit as a failed hook, so a refusal is exit 0 with `{"permissionDecision":
"deny", ...}`. sessionStart, userPromptSubmitted and subagentStart add
`additionalContext` to the conversation; agentStop blocks with a reason,
and says `stop_hook_active` once it has.

Identity: the bash tool exports the session as COPILOT_AGENT_SESSION_ID,
equal to the payload's sessionId, so hooks and the agent's own CLI calls
are one agent. A subagent's payloads carry its own id as sessionId and its
parent's as parentAgentId: it acts as its parent, and what it is told at a
prompt or a stop would be lost with its context, so it is told nothing.
"""

from ..core import fastjson
from . import adapters, model

EVENTS = {
    "sessionStart": model.SESSION_START,
    "userPromptSubmitted": model.PROMPT,
    "preToolUse": model.PRE_TOOL,
    "postToolUse": model.POST_TOOL,
    "agentStop": model.STOP,
    "subagentStart": model.SUBAGENT_START,
    "sessionEnd": model.SESSION_END,
}
EDIT_TOOLS = ("edit", "create", "write")
SHELL_TOOLS = ("bash", "powershell", "shell")
PATH_KEYS = ("path", "file_path", "filePath")
END_REASONS = {"user_exit": "prompt_input_exit"}


def _arguments(payload):
    """toolArgs (an object, or a JSON string), or the VS Code form's tool_input."""
    raw = payload.get("toolArgs", payload.get("tool_input"))
    if isinstance(raw, str):
        raw = fastjson.loads(raw)
    return adapters.mapping(raw)


def parse(event_name, payload):
    kind = EVENTS[event_name]
    reason = adapters.text(payload.get("reason"))
    parent = adapters.text(payload.get("parentAgentId"))
    own = adapters.first_text(payload, "sessionId", "session_id")
    if kind == model.SUBAGENT_START:  # said in the parent's session, about the subagent
        subagent = adapters.text(payload.get("agentId"))
        fields = {"session_id": own, "subagent_id": subagent}
    else:
        fields = {"session_id": parent or own, "subagent": parent is not None}
    fields.update(cwd=adapters.first_text(payload, "cwd"), source=payload.get("source"),
                  end_reason=END_REASONS.get(reason, reason), stop_active=payload.get("stop_hook_active"))
    tool_name = adapters.first_text(payload, "toolName", "tool_name")
    if tool_name in EDIT_TOOLS:
        return adapters.edit(kind, tool_name, [adapters.first_text(_arguments(payload), *PATH_KEYS)], **fields)
    if tool_name in SHELL_TOOLS:
        return adapters.shell(kind, tool_name, _arguments(payload).get("command"), **fields)
    return model.Event(kind, tool_name=tool_name, **fields)


CONTEXT_KINDS = (model.SESSION_START, model.PROMPT, model.SUBAGENT_START, model.POST_TOOL)


def render(event, outcome):
    note = outcome.note or ""
    if outcome.block_reason:
        body = {"permissionDecision": "deny", "permissionDecisionReason": outcome.block_reason}
        return 0, adapters.dumps(body), note
    if outcome.stop_reason:
        return 0, adapters.dumps({"decision": "block", "reason": outcome.stop_reason}), note
    if outcome.context and event.kind in CONTEXT_KINDS:
        return 0, adapters.dumps({"additionalContext": outcome.context}), note
    return 0, "", note
