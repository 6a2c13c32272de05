"""The one internal event model that every agent's hook payload is normalised into.

Adapters translate payloads into an Event and an Outcome back into the
agent's own output format; the handlers never learn agent names.
"""

SESSION_START = "session_start"
PROMPT = "prompt"
PRE_TOOL = "pre_tool"
POST_TOOL = "post_tool"
STOP = "stop"
SUBAGENT_START = "subagent_start"
SESSION_END = "session_end"
IDLE = "idle"  # the session went idle: wait in the background for a message that should wake it

EDIT, SHELL, OTHER = "edit", "shell", "other"


class Event:
    """What happened, in agent-neutral terms."""

    __slots__ = ("kind", "session_id", "cwd", "tool", "tool_name", "paths", "command", "stop_active",
                 "end_reason", "source", "subagent", "subagent_id")

    def __init__(self, kind, session_id=None, cwd=None, tool=OTHER, tool_name="", paths=(), command=None,
                 stop_active=False, end_reason="", source="", subagent=False, subagent_id=None):
        self.kind = kind
        self.session_id = session_id if isinstance(session_id, str) and session_id else None
        self.cwd = cwd if isinstance(cwd, str) and cwd else None
        self.tool = tool
        self.tool_name = tool_name if isinstance(tool_name, str) else ""
        self.paths = [p for p in paths if isinstance(p, str) and p]
        self.command = command if isinstance(command, str) else None
        self.stop_active = stop_active is True
        self.end_reason = end_reason if isinstance(end_reason, str) else ""
        self.source = source if isinstance(source, str) else ""
        # Said by (or, for SUBAGENT_START, about) a subagent, whose context is thrown away when it
        # ends: a message handed to it never reaches the conversation that goes on.
        self.subagent = subagent is True
        self.subagent_id = subagent_id if isinstance(subagent_id, str) and subagent_id else None


class Outcome:
    """What to tell the agent: nothing, extra context, a refusal, a stop block, or a wake-up."""

    __slots__ = ("block_reason", "context", "stop_reason", "note", "wake")

    def __init__(self, block_reason=None, context=None, stop_reason=None, note=None, wake=None):
        self.block_reason = block_reason  # pre-tool refusal (a real lock conflict)
        self.context = context            # text for the agent's context
        self.stop_reason = stop_reason    # keep the agent working: messages await it
        self.note = note                  # one line for stderr (fail-open explanations)
        self.wake = wake                  # wake an idle session with this text (messages arrived)


ALLOW = Outcome()

BLOCK_ADVICE = ("Do not work around this lock with another tool or a shell command. "
                "Message the owner, or pick other work (agent-sync status --compact).")


def refused(explanation, log_error=None):
    """The Outcome of a lock conflict: the store's explanation, our advice, and a note when the
    refusal could not be put in the activity feed (it holds all the same)."""
    note = None
    if log_error is not None:
        note = f"agent-sync hook: the refusal was not logged in the activity feed ({log_error}); it still holds"
    return Outcome(block_reason=f"[agent-sync] BLOCKED: {explanation}\n{BLOCK_ADVICE}", note=note)
