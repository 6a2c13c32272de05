"""Where the repository is, where its state lives, and repo-relative paths.

Imported by the hook fast path, so it uses nothing beyond `os`.
"""

import os

from .errors import UsageError
from .quickstamp import DB_NAME, STATE_PARTS  # where the state lives, named once, os-free (for the fast paths)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

STATE_DIR = os.path.join(*STATE_PARTS)


def find_root(cwd: str | None = None, environ: "Mapping[str, str]" = os.environ) -> str:
    """The repository root: AGENT_SYNC_ROOT, else the nearest `.git`, else cwd.

    A linked worktree's `.git` file leads to the main worktree, so every
    worktree of a repository shares one database. A submodule belongs to its
    superproject: the search goes on above it, so the superproject's database
    and locks hold inside it too. Only `.git` counts: a stray `.claude/`
    folder elsewhere never decides the root.
    """
    forced = environ.get("AGENT_SYNC_ROOT")
    if forced:
        return os.path.realpath(os.path.expanduser(forced))
    start = os.path.realpath(cwd or os.getcwd())
    found = _checkout_above(start)
    if found is None:
        return start
    here, marker = found
    if os.path.isdir(marker):
        return here
    return _main_worktree(here, marker) or here


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
    """The nearest directory at or above `start` holding `.git` (a dir or a file), or None.

    A submodule's checkout is passed over: its files are the superproject's.
    """
    found = _checkout_above(start)
    return found[0] if found else None


def _checkout_above(start: str) -> tuple[str, str] | None:
    """(directory, its `.git`) for the nearest checkout at or above `start` that is not a submodule."""
    here = start
    while True:
        marker = os.path.join(here, ".git")
        if os.path.isdir(marker) or (os.path.isfile(marker) and not _is_submodule(here, marker)):
            return here, marker
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _is_submodule(checkout: str, git_file: str) -> bool:
    """A `.git` file whose git directory lives in another repository's `.git/modules/`."""
    gitdir = _read_pointer(git_file, "gitdir:")
    if not gitdir:
        return False
    parts = os.path.normpath(os.path.join(checkout, gitdir)).replace(os.sep, "/").split("/")
    return any(a == ".git" and b == "modules" for a, b in zip(parts, parts[1:]))


def worktree_of(path: str, root: str) -> str | None:
    """The checkout of the repository at `root` that holds `path` (a real path), or None.

    Linked worktrees share one lock namespace: `src/a.py` names the same key in each of
    them, so a file of another worktree, given by absolute path, maps to its own tree.
    """
    checkout = nearest_checkout(os.path.dirname(path) if not os.path.isdir(path) else path)
    if checkout is None:
        return None
    marker = os.path.join(checkout, ".git")
    top = checkout if os.path.isdir(marker) else (_main_worktree(checkout, marker) or checkout)
    return checkout if os.path.realpath(top) == os.path.realpath(root) else None


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


def relative_path(root: str, raw: str, cwd: str, repo_root: str | None = None) -> str:
    """`raw` (relative to cwd, or absolute) as a repo-relative '/' path.

    Symlinks are resolved, so a link leading out of the repository is refused
    like `../../etc/passwd` is. The repository root itself is ''. With
    `repo_root` (the database's root), a path in another linked worktree of
    that repository is relative to its own worktree (see `worktree_of`).
    """
    if not raw or "\x00" in raw:
        raise UsageError("a path must be a non-empty string without NUL bytes")
    absolute = os.path.join(cwd, os.path.expanduser(raw))
    real = os.path.realpath(absolute)
    base = os.path.realpath(root)
    if repo_root is not None:
        other = worktree_of(real, repo_root)
        if other is not None:
            base = os.path.realpath(other)
    if real != base and not real.startswith(base.rstrip(os.sep) + os.sep):
        raise UsageError(f"{raw} is outside the repository ({base})")
    rel = os.path.relpath(real, base)
    return "" if rel == "." else rel.replace(os.sep, "/")


def holds_tree(raw: str, cwd: str, tree: str) -> bool:
    """Is `raw` (from cwd) the working tree itself or one of its ancestors? (`rm -rf ..`)"""
    try:
        real = os.path.realpath(os.path.join(cwd, os.path.expanduser(raw)))
    except (ValueError, OSError):
        return False
    base = os.path.realpath(tree)
    return real == base or base.startswith(real.rstrip(os.sep) + os.sep)


def fold(key: str, case_insensitive: bool) -> str:
    """The comparison key for a repo path on this filesystem."""
    return key.casefold() if case_insensitive else key
