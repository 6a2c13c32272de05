"""The command line that settings files run for each hook event.

`python3 -I -S -c ...` imports the hook entry straight from the archive:
running the .pyz as a script would import runpy first, which costs more
than everything agent-sync does on an allowed edit.
"""

LAUNCH = "import sys;sys.path.insert(0,sys.argv[1]);from agent_sync.hooks.entry import main;main()"
PROJECT_PYZ = '"$CLAUDE_PROJECT_DIR/.claude/skills/agent-sync/agent-sync.pyz"'
PLUGIN_PYZ = '"${CLAUDE_PLUGIN_ROOT}/bin/agent-sync.pyz"'
MARKER = "agent_sync.hooks.entry"  # how our own entries are recognised, however they were written


def prefix(pyz_ref=PROJECT_PYZ, python="python3", agent=None):
    """Everything before the event name."""
    agent_flag = f" --agent {agent}" if agent and agent != "claude" else ""
    return f'{python} -I -S -c "{LAUNCH}" {pyz_ref}{agent_flag}'


def is_ours(command):
    """Our entry, in today's form or an older one: `agent-sync hook EVENT`, `.../scripts/agent-sync hook
    EVENT`, `python3 .../agent-sync.pyz hook EVENT`, `python -m agent_sync hook EVENT`."""
    if not isinstance(command, str):
        return False
    if MARKER in command:
        return True
    import re

    return re.search(r"""(?:^|[\s/"'])agent[-_]sync(?:\.pyz)?["']?\s+hook\s""", command + " ") is not None
