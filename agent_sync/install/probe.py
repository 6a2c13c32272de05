"""After an install: run the written hook command the way the agent will, and say loudly if it cannot work.

A hook command that cannot start (no python3, an old one, a missing archive)
is a non-blocking error to Claude Code: the lock gate would be silently off.
The probe sends a PreToolUse payload for an Edit, under a session id of its
own, so the hook creates no agent and no local id; with no database yet it
does not even open one.
"""

import json
import os
import shlex
import subprocess

from ..core.errors import GATE_BROKEN, AgentSyncError

MIN_PYTHON = (3, 10)
SESSION = "agent-sync-install-probe"
TIMEOUT = 30
VERSION_CODE = "import sys; print('%d.%d' % sys.version_info[:2])"


class GateBroken(AgentSyncError):
    """The installed hook command does not run, so edits would not be checked."""

    exit_code = GATE_BROKEN


def _sh(command, root, payload=b""):
    env = {k: v for k, v in os.environ.items() if k != "AGENT_SYNC_ID"}  # identity comes from the session
    env["CLAUDE_PROJECT_DIR"] = root
    try:
        return subprocess.run(["sh", "-c", command], input=payload, cwd=root, env=env,
                              capture_output=True, timeout=TIMEOUT, check=False)
    except FileNotFoundError:
        raise GateBroken("no `sh` found: Claude Code runs hook commands through a shell") from None
    except subprocess.TimeoutExpired:
        raise GateBroken(f"the hook command took over {TIMEOUT}s; a PreToolUse hook that times out does not block"
                         ) from None


def _last_line(data):
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""


def check_python(command, root):
    """The interpreter the command names must exist on PATH and be new enough."""
    python = shlex.split(command)[0]
    proc = _sh(f"{shlex.quote(python)} -c {shlex.quote(VERSION_CODE)}", root)
    if proc.returncode != 0:
        raise GateBroken(f"`{python}` does not run from a shell here (exit {proc.returncode}: "
                         f"{_last_line(proc.stderr) or 'no output'}); install Python "
                         f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]}+ as `{python}` on PATH")
    found = proc.stdout.decode().strip()
    if tuple(int(p) for p in found.split(".")) < MIN_PYTHON:
        raise GateBroken(f"`{python}` on PATH is Python {found}; the hooks need "
                         f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer")
    return found


def payload(root):
    from ..core import repo

    target = os.path.join(repo.state_dir(root), "install-probe.txt")
    return json.dumps({
        "session_id": SESSION, "hook_event_name": "PreToolUse", "cwd": root, "tool_name": "Edit",
        "tool_use_id": "agent-sync-install-probe",
        "tool_input": {"file_path": target, "old_string": "", "new_string": "", "replace_all": False},
    }).encode()


def check_hook(command, root):
    """Run the PreToolUse command on a probe Edit. Returns a warning (str) or None; raises GateBroken."""
    proc = _sh(command, root, payload(root))
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode == 2 and "[agent-sync]" in err:
        return None  # a lock covering the probe path: the gate answered, so it works
    if proc.returncode != 0:
        raise GateBroken(f"the PreToolUse hook exited {proc.returncode}: {_last_line(proc.stderr) or 'no output'}")
    if "internal error" in err:
        raise GateBroken(f"the PreToolUse hook failed: {_last_line(proc.stderr)}")
    return err or None


def check_launcher(launcher, root):
    """The skill's launcher must find a Python and the archive."""
    proc = _sh(f"{shlex.quote(launcher)} --version", root)
    out = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0 or not out.startswith("agent-sync "):
        raise GateBroken(f"the skill launcher {launcher} does not run (exit {proc.returncode}: "
                         f"{_last_line(proc.stderr) or _last_line(proc.stdout) or 'no output'})")
    return out.strip()
