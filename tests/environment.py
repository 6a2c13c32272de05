"""The isolated environment every test (and the stress and scale scenarios) runs the archive in."""

import os

TOOL_VARS = ("AGENT_SYNC_", "CLAUDE_", "GEMINI_", "CURSOR_", "CODEX_")
# What a settings file runs for a hook (agent_sync/install/command_line.py): no runpy, no CLI.
HOOK_LAUNCH = "import sys;sys.path.insert(0,sys.argv[1]);from agent_sync.hooks.entry import main;main()"


def clean_env(home, **extra):
    """os.environ without the variables the tool reads, HOME pointed at `home`, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(TOOL_VARS)}
    env.pop("PYTHONPATH", None)
    env["HOME"] = str(home)
    env["LC_ALL"] = "C.UTF-8"
    env.update({k: str(v) for k, v in extra.items() if v is not None})
    return env
