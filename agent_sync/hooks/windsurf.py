"""Windsurf (Cascade): pre_write_code and pre_run_command guard writes; post_write_code logs them.

Wired in <repo>/.windsurf/hooks.json. Cascade's only refusal is exit 2 with
the reason on stderr; it has no JSON answer, no session-start, prompt or
stop event that can add context, so messages reach a Cascade agent only
through `agent-sync inbox`.

Identity: the payload's trajectory_id is deliberately not used. Cascade's
terminal never sees it and no hook can tell the agent, so the CLI calls the
agent makes (`agent-sync lock ...`) would resolve to another id than its
hooks, and its own locks would block its own edits. Hooks resolve as its
shell does instead: AGENT_SYNC_ID, a session variable, or the repo's local id.
"""

from . import adapters, model

EVENTS = {
    "pre_write_code": model.PRE_TOOL,
    "pre_run_command": model.PRE_TOOL,
    "post_write_code": model.POST_TOOL,
}


def parse(event_name, payload):
    kind = EVENTS[event_name]
    info = adapters.mapping(payload.get("tool_info"))
    fields = {"cwd": adapters.first_text(info, "cwd")}
    if event_name == "pre_run_command":
        return adapters.shell(kind, "run_command", adapters.first_text(info, "command_line", "command"), **fields)
    return adapters.edit(kind, "write_code", [info.get("file_path")], **fields)


def render(event, outcome):
    if outcome.block_reason:
        return 2, "", outcome.block_reason
    return 0, "", outcome.note or ""
