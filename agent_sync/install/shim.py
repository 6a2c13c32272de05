"""`install --shim`: one user-level `agent-sync` command (~/.local/bin) that runs each repository's own copy.

A project install puts the launcher at .claude/skills/agent-sync/scripts/agent-sync,
which is not on PATH. The shim walks up from the current folder (or starts at
AGENT_SYNC_ROOT) to the nearest installed launcher and runs it, so `agent-sync`
typed anywhere in a repository runs the same version its hooks run. Its second
line carries the mark core.program looks for before it prints plain `agent-sync`.
"""

import os

SHIM = r"""#!/bin/sh
# agent-sync shim: runs the agent-sync installed in the repository you are in (written by `agent-sync install --shim`).
dir=${AGENT_SYNC_ROOT:-$PWD}
while :; do
    if [ -x "$dir/.claude/skills/agent-sync/scripts/agent-sync" ]; then
        exec "$dir/.claude/skills/agent-sync/scripts/agent-sync" "$@"
    fi
    [ "$dir" = / ] || [ -z "$dir" ] && break
    dir=$(dirname -- "$dir")
done
echo "agent-sync: no agent-sync is installed in $PWD or above it; install one with: python3 agent-sync.pyz install" >&2
exit 127
"""


def folder(environ=os.environ):
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".local", "bin")


def install(say, environ=os.environ):
    """Write (or refresh) the shim; say where, and whether that folder is on PATH."""
    from .project import _put

    bin_dir = folder(environ)
    os.makedirs(bin_dir, mode=0o755, exist_ok=True)
    path = os.path.join(bin_dir, "agent-sync")
    if os.path.exists(path) and not _ours(path):
        from ..core.errors import UsageError

        raise UsageError(f"{path} exists and is not agent-sync's shim; move it away, then run install --shim again")
    changed = _put(path, SHIM.encode("utf-8"), 0o755)
    say(f"{'wrote' if changed else 'kept'} the shim {path}: `agent-sync` now runs this repository's copy")
    on_path = any(os.path.realpath(p or ".") == os.path.realpath(bin_dir)
                  for p in environ.get("PATH", "").split(os.pathsep))
    if not on_path:
        say(f"note: {bin_dir} is not on your PATH; add it (export PATH=\"$HOME/.local/bin:$PATH\") to type `agent-sync`")


def _ours(path):
    try:
        with open(path, "rb") as handle:
            return b"# agent-sync shim:" in handle.read(512)
    except OSError:
        return False
