"""How to run agent-sync from where a suggested command is shown: the one place that spells the program.

A project install does not put `agent-sync` on PATH, so every command we
print for a person or an agent starts with `prefix()`: `agent-sync` only when
that name on PATH is ours (the `install --shim` shim, or a plugin's bin/
launcher), otherwise the repository's launcher, otherwise the running
archive. `command()` adds the arguments, each shell-quoted, so agent-written
text in a suggestion can never run as shell.
"""

import os
import sys

from . import repo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

NAME = "agent-sync"
LAUNCHER_PARTS = (".claude", "skills", "agent-sync", "scripts", "agent-sync")
LAUNCHER = "/".join(LAUNCHER_PARTS)  # as the README shows it, from the repository root
# Text that marks a file on PATH as ours: the launcher's first comment, and the shim's.
MARKS = (b"# agent-sync launcher:", b"# agent-sync shim:")


def _ours_on_path(environ: "Mapping[str, str]") -> bool:
    """True if `agent-sync` on PATH is our launcher or shim (another tool may own that name)."""
    for folder in environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(folder or ".", NAME)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            try:
                with open(candidate, "rb") as handle:
                    head = handle.read(512)
            except OSError:
                return False
            return any(mark in head for mark in MARKS)
    return False


def _running_archive() -> str | None:
    """The .pyz this code runs from, or None when it runs from a source checkout."""
    here = os.path.abspath(__file__)
    while True:
        parent = os.path.dirname(here)
        if parent == here:
            return None
        if os.path.isfile(parent) and parent.endswith(".pyz"):
            return parent
        here = parent


def prefix(cwd: str | None = None, environ: "Mapping[str, str] | None" = None) -> str:
    """The shell words that start agent-sync here, already quoted."""
    environ = os.environ if environ is None else environ
    if _ours_on_path(environ):
        return NAME
    cwd = os.path.realpath(cwd or os.getcwd())
    for top in dict.fromkeys((repo.find_tree(cwd, environ), repo.find_root(cwd, environ))):
        launcher = os.path.join(top, *LAUNCHER_PARTS)
        if os.path.isfile(launcher):
            return LAUNCHER if top == cwd else quote(launcher)
    archive = _running_archive()
    if archive:
        return "python3 -I -S " + quote(archive)  # as every command line we write: no site-packages
    return quote(sys.executable) + " -m agent_sync"


def command(*args: object, cwd: str | None = None, environ: "Mapping[str, str] | None" = None) -> str:
    """A full command line: prefix() plus every argument shell-quoted (agent-written text included)."""
    return " ".join([prefix(cwd, environ)] + [quote(str(arg)) for arg in args])


# shlex.quote's rule, without importing shlex: it imports re and enum (about 4 ms), and a refusal prints a command.
SHELL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-")


def quote(text: str) -> str:
    """One shell word, exactly as shlex.quote writes it, for every command line we print."""
    if not text:
        return "''"
    if all(char in SHELL_SAFE for char in text):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"
