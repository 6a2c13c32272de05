"""How to run agent-sync from where a suggested command is shown: the one place that spells the program.

A project install does not put `agent-sync` on PATH, so every command we
print for a person or an agent starts with `prefix()`: `agent-sync` only when
that name on PATH is ours (the `install --shim` shim, or a plugin's bin/
launcher), otherwise the repository's launcher, otherwise the running
archive. `command()` adds the arguments, each shell-quoted, so agent-written
text in a suggestion can never run as shell.

A refusal prints such a command from the pre-tool hook's quick path, which never loads `os` (a sixth of
the interpreter's start-up): so the checks use the builtin module `os` is made of, and `os` itself is
imported only when the working directory is not plainly a checkout's root.
"""

import sys

if sys.platform == "win32":
    import nt as _fs
    _SEP, _PATHSEP = "\\", ";"
else:
    import posix as _fs
    _SEP, _PATHSEP = "/", ":"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

NAME = "agent-sync"
LAUNCHER_PARTS = (".claude", "skills", "agent-sync", "scripts", "agent-sync")
LAUNCHER = "/".join(LAUNCHER_PARTS)  # as the README shows it, from the repository root
# Text that marks a file on PATH as ours: the launcher's first comment, and the shim's.
MARKS = (b"# agent-sync launcher:", b"# agent-sync shim:")


_REGULAR, _DIRECTORY, _TYPE = 0o100000, 0o040000, 0o170000


def _kind(path: str) -> int | None:
    try:
        return _fs.stat(path).st_mode & _TYPE
    except (OSError, ValueError):
        return None


def _ours_on_path(path_variable: str) -> bool:
    """True if `agent-sync` on PATH is our launcher or shim (another tool may own that name)."""
    for folder in path_variable.split(_PATHSEP):
        candidate = f"{(folder or '.').rstrip(_SEP) or _SEP}{_SEP}{NAME}"
        if _kind(candidate) == _REGULAR and _fs.access(candidate, _fs.X_OK):
            try:
                with open(candidate, "rb") as handle:
                    head = handle.read(512)
            except OSError:
                return False
            return any(mark in head for mark in MARKS)
    return False


def _running_archive(here: str) -> str | None:
    """The .pyz holding `here` (this module's absolute file name), or None outside an archive."""
    while _SEP in here.rstrip(_SEP):
        here = here.rstrip(_SEP).rsplit(_SEP, 1)[0] or _SEP
        if here.endswith(".pyz") and _kind(here) == _REGULAR:
            return here
    return None


def prefix(cwd: str | None = None, environ: "Mapping[str, str] | None" = None) -> str:
    """The shell words that start agent-sync here, already quoted."""
    if cwd is None and environ is None:
        quick = _at_checkout_root()
        if quick is not None:
            return quick
    import os

    from . import repo

    environ = os.environ if environ is None else environ
    if _ours_on_path(environ.get("PATH", "")):
        return NAME
    cwd = os.path.realpath(cwd or os.getcwd())
    tops = (repo.find_tree(cwd, environ), repo.find_root(cwd, environ))
    return _choose(cwd, tops, _running_archive(os.path.abspath(__file__)))


def _at_checkout_root() -> str | None:
    """prefix() without `os`, for a process whose working directory is a checkout's root (its `.git` a
    folder, AGENT_SYNC_ROOT unset): that folder is then both the tree and the root. None otherwise,
    and once `os` is loaded (its environ, which the process may have changed, is then the one to read)."""
    if "os" in sys.modules or _SEP != "/" or b"AGENT_SYNC_ROOT" in _fs.environ or not __file__.startswith("/"):
        return None
    if _ours_on_path(_fs.environ.get(b"PATH", b"").decode("utf-8", "surrogateescape")):
        return NAME
    try:
        cwd = _fs.getcwd()  # the kernel's answer: no symbolic link in it, as realpath would give
    except OSError:
        return None
    if _kind(f"{cwd.rstrip('/')}/.git") != _DIRECTORY:
        return None
    return _choose(cwd, (cwd,), _running_archive(__file__))


def _choose(cwd: str, tops: "tuple[str, ...]", archive: str | None) -> str:
    """The launcher of the checkout (tree, then root), else the running archive, else this Python."""
    for top in dict.fromkeys(tops):
        launcher = _SEP.join((top.rstrip(_SEP), *LAUNCHER_PARTS))
        if _kind(launcher) == _REGULAR:
            return LAUNCHER if top == cwd else quote(launcher)
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
