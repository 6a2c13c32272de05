"""Where the repository is, where its state lives, and repo-relative paths.

Imported by the hook fast path, so it uses nothing beyond `os`.
"""

import os

from .errors import UsageError
from .quickstamp import STATE_PARTS  # the one place the coordination folder is named (os-free, for the fast path)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

STATE_DIR = os.path.join(*STATE_PARTS)
DB_NAME = "state.sqlite"


def find_root(cwd: str | None = None, environ: "Mapping[str, str]" = os.environ) -> str:
    """The repository root: AGENT_SYNC_ROOT, else the nearest `.git`, else cwd.

    A linked worktree's `.git` file leads to the main worktree, so every
    worktree of a repository shares one database. Only `.git` counts: a stray
    `.claude/` folder elsewhere never decides the root.
    """
    forced = environ.get("AGENT_SYNC_ROOT")
    if forced:
        return os.path.realpath(os.path.expanduser(forced))
    start = os.path.realpath(cwd or os.getcwd())
    here = start
    while True:
        marker = os.path.join(here, ".git")
        if os.path.isdir(marker):
            return here
        if os.path.isfile(marker):
            return _main_worktree(here, marker) or here
        parent = os.path.dirname(here)
        if parent == here:
            return start
        here = parent


def find_tree(cwd: str | None = None, environ: "Mapping[str, str]" = os.environ) -> str:
    """The working tree holding cwd: where repo-relative paths start.

    Usually the root itself; in a linked worktree it is that worktree, so a
    path there names the same repo-relative file as in the main worktree.
    """
    forced = environ.get("AGENT_SYNC_ROOT")
    start = os.path.realpath(cwd or os.getcwd())
    if forced:
        return os.path.realpath(os.path.expanduser(forced))
    return nearest_checkout(start) or start


def nearest_checkout(start: str) -> str | None:
    """The nearest directory at or above `start` holding `.git` (a dir or a file), or None."""
    here = start
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _main_worktree(worktree: str, git_file: str) -> str | None:
    """Main worktree of a linked worktree, read from gitdir/commondir files."""
    gitdir = _read_pointer(git_file, "gitdir:")
    if not gitdir:
        return None
    gitdir = os.path.normpath(os.path.join(worktree, gitdir))
    common = _read_pointer(os.path.join(gitdir, "commondir"), "")
    if not common:
        return None  # a submodule: its own root
    common = os.path.realpath(os.path.join(gitdir, common))
    if os.path.basename(common) == ".git":
        return os.path.dirname(common)
    return common  # bare repository: keep state beside it


def _read_pointer(path: str, prefix: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.readline().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith(prefix):
        return None
    return text[len(prefix):].strip() or None


def state_dir(root: str) -> str:
    return os.path.join(root, STATE_DIR)


def db_path(root: str) -> str:
    return os.path.join(root, STATE_DIR, DB_NAME)


def is_case_insensitive(root: str) -> bool:
    """Does the filesystem holding the state directory ignore case?"""
    lower = os.path.join(root, ".claude")
    upper = os.path.join(root, ".CLAUDE")
    try:
        return os.path.samefile(lower, upper)
    except OSError:
        return False


def relative_path(root: str, raw: str, cwd: str) -> str:
    """`raw` (relative to cwd, or absolute) as a repo-relative '/' path.

    Symlinks are resolved, so a link leading out of the repository is refused
    like `../../etc/passwd` is. The repository root itself is ''.
    """
    if not raw or "\x00" in raw:
        raise UsageError("a path must be a non-empty string without NUL bytes")
    absolute = os.path.join(cwd, os.path.expanduser(raw))
    real = os.path.realpath(absolute)
    base = os.path.realpath(root)
    if real != base and not real.startswith(base.rstrip(os.sep) + os.sep):
        raise UsageError(f"{raw} is outside the repository ({base})")
    rel = os.path.relpath(real, base)
    return "" if rel == "." else rel.replace(os.sep, "/")


def fold(key: str, case_insensitive: bool) -> str:
    """The comparison key for a repo path on this filesystem."""
    return key.casefold() if case_insensitive else key
