"""Which agent is speaking: AGENT_SYNC_ID, else the agent session, else a per-repo local id.

Imported by hooks before SQLite, so it uses nothing beyond `os`.
"""

import os

from . import repo
from .errors import UsageError
from .quickstamp import ID_CHARS as _ID_CHARS
from .quickstamp import MAX_ID, SUBAGENTS_DIR, session_agent_id  # noqa: F401 - shared with the fast path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

OPERATOR = "operator"
# What each agent exports into its shell tool: the id its hook payloads carry as the session.
SESSION_VARS = ("CLAUDE_CODE_SESSION_ID", "CODEX_SESSION_ID", "COPILOT_AGENT_SESSION_ID")


class Identity:
    """An agent id and which rule produced it (env, session or local)."""

    __slots__ = ("id", "source", "session")

    def __init__(self, agent_id: str, source: str, session: str | None = None) -> None:
        self.id = agent_id
        self.source = source
        self.session = session


def check_id(agent_id: str) -> str:
    if not agent_id or len(agent_id) > MAX_ID or not set(agent_id) <= _ID_CHARS:
        raise UsageError(
            f"invalid agent id {agent_id[:80]!r}: use 1-{MAX_ID} letters, digits, '.', '_' or '-'"
        )
    return agent_id


def resolve(root: str, session_id: str | None = None, environ: "Mapping[str, str]" = os.environ,
            allow_operator: bool = False) -> Identity:
    """The caller's identity. A hook passes the payload's session_id."""
    forced = environ.get("AGENT_SYNC_ID")
    if forced:
        check_id(forced)
        if forced.lower() == OPERATOR and not allow_operator:
            raise UsageError("'operator' is reserved for the console")
        return Identity(forced, "env")
    session = session_id if isinstance(session_id, str) and session_id else None
    if session is None:
        session = next((environ[v] for v in SESSION_VARS if environ.get(v)), None)
    if session:
        session = parent_session(root, session)
        return Identity(session_agent_id(session), "session", session)
    return Identity(_local_id(root), "local")


def _subagent_path(root: str, session: str | None) -> str | None:
    if not session or len(session) > 128 or not set(session) <= _ID_CHARS:
        return None
    return os.path.join(repo.state_dir(root), SUBAGENTS_DIR, session)


def record_parent(root: str, subagent_session: str | None, parent_session_id: str | None) -> None:
    """Remember that a subagent, whose shell exports its own session id, acts as its parent."""
    path = _subagent_path(root, subagent_session)
    if path is None or not parent_session_id or subagent_session == parent_session_id:
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(parent_session_id + "\n")
    os.replace(tmp, path)


def parent_session(root: str, session: str) -> str:
    """The session a subagent's shell should act as: its parent's, when a hook recorded one."""
    for _ in range(4):  # a subagent's subagent follows the chain up
        path = _subagent_path(root, session)
        if path is None:
            return session
        try:
            with open(path, encoding="utf-8") as handle:
                parent = handle.read().strip()
        except (OSError, ValueError):
            return session
        if not parent or parent == session:
            return session
        session = parent
    return session


def _local_id(root: str) -> str:
    """One id per repository for plain shells, created atomically on first use."""
    path = os.path.join(repo.state_dir(root), "local-id")
    try:
        with open(path, encoding="utf-8") as handle:
            existing = handle.read().strip()
        if existing:
            return check_id(existing)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    candidate = "local-" + os.urandom(4).hex()
    os.makedirs(repo.state_dir(root), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(candidate + "\n")
    try:
        os.link(tmp, path)  # fails if another process won the race; then use theirs
    except FileExistsError:
        pass
    except OSError:
        if not os.path.exists(path):
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    with open(path, encoding="utf-8") as handle:
        return check_id(handle.read().strip())
