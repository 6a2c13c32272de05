"""The command line that settings files run for each hook event.

`python3 -I -S -c ...` imports the hook entry straight from the archive:
running the .pyz as a script would import runpy first, which costs more
than everything agent-sync does on an allowed edit.
"""

LAUNCH = "import sys;sys.path.insert(0,sys.argv[1]);from agent_sync.hooks.entry import main;main()"
PROJECT_PYZ = '"$CLAUDE_PROJECT_DIR/.claude/skills/agent-sync/agent-sync.pyz"'
PLUGIN_PYZ = '"${CLAUDE_PLUGIN_ROOT}/bin/agent-sync.pyz"'
PYTHON = "python3"  # the interpreter every command line we write names; install compiles bytecode for it
MARKER = "agent_sync.hooks.entry"  # how our own entries are recognised, however they were written


def prefix(pyz_ref=PROJECT_PYZ, python=PYTHON, agent=None):
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


_ENV_REFS = {PROJECT_PYZ.strip('"'): PROJECT_PYZ, PLUGIN_PYZ.strip('"'): PLUGIN_PYZ}


def rebuild(command):
    """The command agent-sync itself would write for this entry, or None if it is not exactly that shape.

    `doctor` runs only what this returns: every word is checked and quoted
    again by us, so a settings file from a cloned repository cannot smuggle
    shell text into the probe, however much it looks like ours.
    """
    import re
    import shlex

    try:
        words = shlex.split(command) if isinstance(command, str) else []
    except ValueError:
        return None
    if len(words) not in (7, 9) or words[1:5] != ["-I", "-S", "-c", LAUNCH]:
        return None
    python, pyz, event, agent = words[0], words[5], words[-1], (words[7] if len(words) == 9 else None)
    if len(words) == 9 and words[6] != "--agent":
        return None
    if not re.fullmatch(r"(?:/[\w.+-]+)*/?python(?:3(?:\.\d+)?)?", python):
        return None
    if pyz in _ENV_REFS:
        pyz_ref = _ENV_REFS[pyz]
    elif re.fullmatch(r"[\w./+-]*agent-sync\.pyz", pyz) and pyz.startswith("/"):
        pyz_ref = shlex.quote(pyz)
    else:
        return None
    if not re.fullmatch(r"[A-Za-z][\w-]{0,40}", event) or (agent and not re.fullmatch(r"[a-z]{1,20}", agent)):
        return None
    return f"{prefix(pyz_ref=pyz_ref, python=shlex.quote(python), agent=agent)} {event}"
