"""Google Gemini CLI: BeforeTool / AfterTool around `write_file`, `replace` and `run_shell_command`.

Wired in <repo>/.gemini/settings.json. A refusal is exit 2 with the reason
on stderr, plus `{"decision": "deny", "reason": ...}` on stdout. Gemini wants
stdout to be JSON only, so every answer prints a JSON object. BeforeAgent
carries pushed messages; AfterAgent's deny makes the agent take another turn.
"""

import os

from . import adapters, model

EVENTS = {
    "SessionStart": model.SESSION_START,
    "BeforeAgent": model.PROMPT,
    "BeforeTool": model.PRE_TOOL,
    "AfterTool": model.POST_TOOL,
    "AfterAgent": model.STOP,
    "SessionEnd": model.SESSION_END,
}
EDIT_TOOLS = ("write_file", "replace", "edit", "write")
SHELL_TOOLS = ("run_shell_command",)
PATH_KEYS = ("file_path", "absolute_path", "path")
DIRECTORY_KEYS = ("dir_path", "directory")  # the shell's working directory: dir_path in 0.61, directory before
CONTEXT_EVENTS = {model.SESSION_START: "SessionStart", model.PROMPT: "BeforeAgent", model.POST_TOOL: "AfterTool"}
END_REASONS = {"exit": "prompt_input_exit"}


def parse(event_name, payload):
    kind = EVENTS[event_name]
    tool_name = adapters.text(payload.get("tool_name"))
    tool_input = adapters.mapping(payload.get("tool_input"))
    cwd = adapters.first_text(payload, "cwd")
    reason = adapters.text(payload.get("reason"))
    fields = {"session_id": payload.get("session_id"), "cwd": cwd, "stop_active": payload.get("stop_hook_active"),
              "source": payload.get("source"), "end_reason": END_REASONS.get(reason, reason)}
    if tool_name in EDIT_TOOLS:
        return adapters.edit(kind, tool_name, [adapters.first_text(tool_input, *PATH_KEYS)], **fields)
    if tool_name in SHELL_TOOLS:
        directory = adapters.first_text(tool_input, *DIRECTORY_KEYS)
        if directory and (cwd or os.path.isabs(directory)):
            fields["cwd"] = os.path.join(cwd or "", directory)
        return adapters.shell(kind, tool_name, tool_input.get("command"), **fields)
    return model.Event(kind, tool_name=tool_name, **fields)


def render(event, outcome):
    outcome = adapters.hinted(event, outcome)
    note = outcome.note or ""
    if outcome.block_reason:
        return 2, adapters.dumps({"decision": "deny", "reason": outcome.block_reason}), outcome.block_reason
    if outcome.stop_reason:
        return 0, adapters.dumps({"decision": "deny", "reason": outcome.stop_reason}), note
    if outcome.context and event.kind in CONTEXT_EVENTS:
        body = {"hookSpecificOutput": {"hookEventName": CONTEXT_EVENTS[event.kind],
                                       "additionalContext": outcome.context}}
        return 0, adapters.dumps(body), note
    return 0, "{}", note
