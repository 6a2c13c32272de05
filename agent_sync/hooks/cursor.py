"""Cursor: preToolUse and beforeShellExecution guard writes; afterFileEdit logs them.

Wired in <repo>/.cursor/hooks.json. A refusal is `{"permission": "deny",
"user_message": ..., "agent_message": ...}` on stdout together with exit 2
(newer releases honour either). An allowed call prints nothing, so Cursor's
own approval rules still apply. beforeSubmitPrompt cannot add context, so
messages are not pushed per prompt; stop continues the agent through
`followup_message`, and `loop_count` marks a stop that already did.
"""

from . import patchpaths
from . import adapters, model

EVENTS = {
    "sessionStart": model.SESSION_START,
    "preToolUse": model.PRE_TOOL,
    "beforeShellExecution": model.PRE_TOOL,
    "afterFileEdit": model.POST_TOOL,
    "stop": model.STOP,
    "sessionEnd": model.SESSION_END,
}
EDIT_TOOLS = ("Write", "Edit", "StrReplace", "MultiEdit", "Delete", "DeleteFile", "edit_file", "search_replace",
              "write", "delete_file")
PATCH_TOOLS = ("ApplyPatch", "apply_patch")
SHELL_TOOLS = ("Shell", "Bash", "run_terminal_cmd", "Terminal")
PATH_KEYS = ("file_path", "path", "target_file", "filePath")


def _cwd(payload):
    roots = payload.get("workspace_roots")
    root = roots[0] if isinstance(roots, list) and roots and isinstance(roots[0], str) else None
    return adapters.first_text(payload, "cwd") or root


def parse(event_name, payload):
    kind = EVENTS[event_name]
    loops = payload.get("loop_count")
    fields = {"session_id": adapters.first_text(payload, "conversation_id", "session_id"), "cwd": _cwd(payload),
              "stop_active": isinstance(loops, int) and not isinstance(loops, bool) and loops > 0,
              "source": payload.get("source"), "end_reason": payload.get("reason")}  # Event drops non-strings
    if event_name == "beforeShellExecution":
        return adapters.shell(kind, "Shell", payload.get("command"), **fields)
    if event_name == "afterFileEdit":
        return adapters.edit(kind, "Edit", [payload.get("file_path")], **fields)
    tool_name = adapters.text(payload.get("tool_name"))
    tool_input = adapters.mapping(payload.get("tool_input"))
    if tool_name in SHELL_TOOLS:
        return adapters.shell(kind, tool_name, tool_input.get("command"), **fields)
    if tool_name in PATCH_TOOLS:
        text = adapters.first_text(tool_input, "patch", "input", "command")
        return adapters.edit(kind, tool_name, patchpaths.targets(text), **fields)
    if tool_name in EDIT_TOOLS:
        return adapters.edit(kind, tool_name, [adapters.first_text(tool_input, *PATH_KEYS)], **fields)
    return model.Event(kind, tool_name=tool_name, **fields)


def render(event, outcome):
    outcome = adapters.hinted(event, outcome)
    note = outcome.note or ""
    if outcome.block_reason:
        first = outcome.block_reason.split("\n", 1)[0]
        body = {"permission": "deny", "user_message": first, "agent_message": outcome.block_reason}
        return 2, adapters.dumps(body), outcome.block_reason
    if outcome.stop_reason:
        return 0, adapters.dumps({"followup_message": outcome.stop_reason}), note
    if outcome.context and event.kind == model.SESSION_START:
        return 0, adapters.dumps({"additional_context": outcome.context}), note
    return 0, "", note
