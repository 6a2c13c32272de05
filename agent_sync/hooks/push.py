"""Mid-turn delivery: when a hook may push messages, and the post-tool fast path.

The post-tool hook runs after every tool call, so its common case (a tool
that writes nothing, and no message waiting for this agent) is decided here
from the mail stamps alone, importing nothing beyond `os`. Only when a
message may be waiting does the hook open SQLite (handlers.post_tool).

`AGENT_SYNC_PUSH` chooses the channels: `tool` (the default) pushes after
each tool call and wakes an idle Claude Code session; `prompt` keeps only
the prompt and stop pushes.
"""

import os
import time

from ..core import config, identity, mailstamp, repo
from ..core.quickstamp import CHECKIN_THROTTLE, WAKE_DIR
from . import model

PUSH_VAR = "AGENT_SYNC_PUSH"
TOOL, PROMPT = "tool", "prompt"


def mode(environ=os.environ):
    """`tool` or `prompt`; any other value is the default, `tool`, with a note on stderr."""
    return config.choice(PUSH_VAR, environ)


def settled(root, agent_id, now=None):
    """True when the stamps prove nothing new can wait for the agent and its check-in is recent."""
    newest = mailstamp.newest(root)
    seen = mailstamp.settled(root, agent_id)
    if newest is None or seen is None:
        return False
    high_water, checked_at = seen
    return newest <= high_water and (time.time() if now is None else now) - checked_at < CHECKIN_THROTTLE


def wanted_after(event, environ=os.environ):
    """Does this post-tool call push messages? Not with AGENT_SYNC_PUSH=prompt, and not into a
    subagent, whose context is thrown away when it ends: what arrives waits for its parent."""
    return mode(environ) == TOOL and not event.subagent


def quiet(event, environ=os.environ):
    """True when a post-tool call has nothing to do: its tool wrote nothing, and nothing is to be pushed."""
    if event.tool != model.OTHER:
        return False  # an edit is logged and renews locks
    if not wanted_after(event, environ):
        return True
    cwd = event.cwd if event.cwd and os.path.isdir(event.cwd) else os.getcwd()
    root = repo.find_root(cwd, environ)
    if settled(root, identity.resolve(root, event.session_id, environ).id):
        return True
    return not os.path.exists(repo.db_path(root))


def waiter_path(root, agent_id):
    return os.path.join(repo.state_dir(root), WAKE_DIR, agent_id)


def retire_waiter(root, agent_id):
    """Tell the agent's idle waiter to leave: its session is busy again, or over."""
    try:
        os.remove(waiter_path(root, agent_id))
    except OSError:
        pass
