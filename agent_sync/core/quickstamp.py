"""The hooks' quickest answers, read without importing `os`.

The post-tool hook runs after every tool call and the prompt hook on every
prompt, and importing `os` alone costs a sixth to a fifth of the interpreter's
start-up. So their common case (nothing new for this agent) is first checked here with the builtin
`posix` module: the checkout holding the payload's cwd, the agent named by
AGENT_SYNC_ID or its session, and the two mail stamps (mailstamp.py).

It answers only True ("provably settled") or None ("take the full path"):
anything unusual (a linked worktree, AGENT_SYNC_ROOT, a push setting, no
session, Windows) gets None, and the full path (hooks/push.py) decides with
the same stamps. A wrong None only costs time; True needs both stamps.

The pre-tool hook asks the same way about an edit (`edit_allowed`): True only
when every target is a plain path inside this checkout (no symlink, no nested
checkout, no `..`) and the lock index (indexfile.py) shows no live lock of
another agent that could cover it; anything else, the full path decides.
"""

try:
    import posix as _sys_os  # builtin: costs nothing to import
except ImportError:  # Windows: the full path answers
    _sys_os = None  # type: ignore[assignment]

STATE_PARTS = (".claude", "coordination")
DB_NAME = "state.sqlite"  # the database, in that folder
SEQ = "mail.seq"
SEEN_DIR = "seen"
ETCD_STAMP = "etcd.stamp"  # cachestamp.NAME: with etcd, the stamps are a cache and must be fresh
ETCD_FRESH = 5.0  # seconds: AGENT_SYNC_CACHE_STALE's default (a set variable takes the full path)
WAKE_DIR = "wake"  # one token file per agent whose idle session waits (hooks/wake.py); a prompt retires it
SUBAGENTS_DIR = "subagents"  # <subagent session> -> its parent's session (identity.parent_session)
CHECKIN_THROTTLE = 30.0  # seconds between check-ins written by hooks (config.CHECKIN_THROTTLE)
ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
MAX_ID = 64
_DIR = 0o040000
_LINK = 0o120000
_TYPE = 0o170000
BACKEND_VAR = "AGENT_SYNC_BACKEND"  # set at all, the edit check takes the full path
CONFIG_PARTS = (".claude", "agent-sync.json")  # the committed backend choice (core.backend reads it)


def session_agent_id(session_id: str) -> str:
    """A stable, short id for a session id (64-bit FNV-1a: no hashlib import)."""
    value = 0xCBF29CE484222325
    for byte in session_id.encode("utf-8", "surrogatepass"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"s-{value:016x}"[:14]


def _env(name: str) -> str:
    value = _sys_os.environ.get(name.encode())
    return value.decode("utf-8", "surrogateescape") if value else ""


def environ() -> dict[str, str]:
    """The process environment as os.environ would give it, read from the builtin module."""
    return {k.decode("utf-8", "surrogateescape"): v.decode("utf-8", "surrogateescape")
            for k, v in _sys_os.environ.items()}


def _agent(session_id: str | None) -> str | None:
    forced = _env("AGENT_SYNC_ID")
    if forced:
        ok = len(forced) <= MAX_ID and set(forced) <= ID_CHARS and forced.lower() != "operator"
        return forced if ok else None
    return session_agent_id(session_id) if session_id else None


def _checkout(cwd: str) -> str | None:
    """The nearest ancestor of cwd whose `.git` is a directory; None for anything else."""
    here = cwd.rstrip("/") or "/"
    while True:
        try:
            mode = _sys_os.stat(f"{here}/.git").st_mode
        except OSError:
            mode = None
        if mode is not None:
            return here if mode & _TYPE == _DIR else None  # a `.git` file: a worktree or submodule
        if here in ("/", ""):
            return None
        here = here.rsplit("/", 1)[0] or "/"


def _exists(path: str) -> bool:
    try:
        _sys_os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def _number(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _etcd_fresh(path: str, now: float) -> bool:
    """True without an etcd stamp (SQLite), or when the engine confirmed the cache within ETCD_FRESH."""
    try:
        with open(path, encoding="utf-8") as handle:
            parts = handle.read().split()
    except OSError:
        return True
    if _env("AGENT_SYNC_CACHE_STALE"):
        return False
    try:
        return now - float(parts[1]) <= ETCD_FRESH
    except (IndexError, ValueError):
        return False


def _place(cwd: str | None, session_id: str | None) -> "tuple[str, str, str] | None":
    """(checkout, its state folder, this agent's id) when the quick answers apply; else None."""
    if _sys_os is None or not isinstance(cwd, str) or not cwd.startswith("/") or "\x00" in cwd:
        return None
    if any(part in ("", ".", "..") for part in cwd.rstrip("/").split("/")[1:]):
        return None  # `..`, `.` or `//` in it: the full path resolves it first
    if _env("AGENT_SYNC_ROOT"):
        return None
    agent = _agent(session_id)
    root = _checkout(cwd) if agent and _is_dir(cwd) else None
    if agent is None or root is None:
        return None
    state = "/".join((root.rstrip("/"), *STATE_PARTS))
    if not _env("AGENT_SYNC_ID") and _exists(f"{state}/{SUBAGENTS_DIR}/{session_id}"):
        return None  # a subagent acting as its parent: identity.resolve maps it
    return root, state, agent


def settled(cwd: str | None, session_id: str | None, now: float, no_waiter: bool = False) -> bool | None:
    """True when this agent's stamps prove nothing new waits for it and its check-in is recent; else None.
    `no_waiter` (the prompt hook's question): and no idle waiter of this agent's is left to retire."""
    place = _place(cwd, session_id)
    if place is None or _env("AGENT_SYNC_PUSH"):
        return None
    _root, state, agent = place
    if no_waiter and _exists(f"{state}/{WAKE_DIR}/{agent}"):
        return None
    if not _etcd_fresh(f"{state}/{ETCD_STAMP}", now):
        return None
    newest = _number(f"{state}/{SEQ}")
    seen_path = f"{state}/{SEEN_DIR}/{agent}"
    high_water = _number(seen_path)
    if newest is None or high_water is None or newest > high_water:
        return None
    try:
        checked_at = _sys_os.stat(seen_path).st_mtime
    except OSError:
        return None
    return True if now - checked_at < CHECKIN_THROTTLE else None


class EditCheck:
    """What the index says of an edit whose every target is a plain path: `may_block` False proves no
    other agent's lock covers one; True sends the question to the database (refusal.confirm)."""

    __slots__ = ("root", "state", "agent", "keys", "may_block")

    def __init__(self, root: str, state: str, agent: str, keys: "list[str]", may_block: bool) -> None:
        self.root, self.state, self.agent, self.keys, self.may_block = root, state, agent, keys, may_block


def edit_allowed(cwd: str | None, session_id: str | None, paths: "list[str]", now: float) -> bool | None:
    """True when no live lock of another agent can cover any of an edit's `paths`; else None."""
    check = edit_check(cwd, session_id, paths, now)
    return True if check is not None and not check.may_block else None


def edit_check(cwd: str | None, session_id: str | None, paths: "list[str]", now: float) -> EditCheck | None:
    """The index's answer for an edit when every target is a plain path in this checkout, on SQLite,
    with an index that does not fold case; None when the full path must decide."""
    place = _place(cwd, session_id)
    if place is None or not paths or _env(BACKEND_VAR):
        return None
    root, state, agent = place
    if _exists("/".join((root.rstrip("/"), *CONFIG_PARTS))) or _exists(f"{state}/{ETCD_STAMP}"):
        return None  # etcd, or a backend choice to read: the full path
    from . import indexfile, lockspec  # here, not above: the post-tool answer needs neither

    keys = []
    for raw in paths:
        key = _plain_key(root, str(cwd), raw)
        if key is None:
            return None
        keys.append(key)
    try:
        with open(f"{state}/{indexfile.NAME}", encoding="utf-8") as handle:
            index = indexfile.parse(handle.read())
    except (OSError, UnicodeDecodeError):
        return None
    if index is None or index[0]:
        return None  # no index, or keys folded for a case-insensitive filesystem: the full path
    specs = [lockspec.Spec(key, key, lockspec.FILE) for key in keys]
    return EditCheck(root, state, agent, keys, indexfile.may_block(index[1], agent, specs, now))


def _plain_key(root: str, cwd: str, raw: object) -> str | None:
    """`raw`'s repo-relative key when it is provably a plain file path inside this checkout:
    no `~`, `.`, `..` or empty part, no symbolic link and no nested checkout on the way, not a
    directory, no glob character. None otherwise (repo.relative_path then resolves it)."""
    if not isinstance(raw, str) or not raw or "\x00" in raw or raw.startswith("~"):
        return None
    path = raw if raw.startswith("/") else f"{cwd.rstrip('/')}/{raw}"
    top = root.rstrip("/")
    if not path.startswith(top + "/"):
        return None
    parts = path[len(top) + 1:].split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    key = "/".join(parts)
    from . import wildmatch

    if wildmatch.is_pattern(key):
        return None
    here = top
    for depth, part in enumerate(parts, 1):
        here = f"{here}/{part}"
        try:
            kind = _sys_os.lstat(here).st_mode & _TYPE
        except FileNotFoundError:
            return key  # not there yet: nothing below it can be a link
        except (OSError, ValueError):
            return None
        if kind == _LINK or (kind == _DIR) == (depth == len(parts)):
            return None  # a link, a directory as the target, or a file on the way
        if depth < len(parts) and _exists(f"{here}/.git"):
            return None  # a nested checkout (a linked worktree keys paths from itself)
    return key


def _is_dir(path: str) -> bool:
    try:
        return _sys_os.stat(path).st_mode & _TYPE == _DIR
    except (OSError, ValueError):
        return False
