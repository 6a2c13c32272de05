"""Contexts on either store, for tests of the Store interface itself (no CLI in between).

backend "sqlite" is the repository's own file; "etcd" is an EtcdStore on a real
member, in a namespace of its own. Used in-process by test_store_model.py and
from worker processes by store_race_worker.py.
"""

import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent_sync.core import lockspec  # noqa: E402
from agent_sync.core.context import Context  # noqa: E402
from agent_sync.core.etcd.client import Client  # noqa: E402
from agent_sync.core.etcd.store import EtcdStore  # noqa: E402
from agent_sync.core.identity import Identity  # noqa: E402


def new_namespace():
    return "test-" + uuid.uuid4().hex[:12]


def context(root, agent, url=None, namespace=None, busy_timeout=None):
    """A Context acting as `agent` in repository `root`, on SQLite (url None) or etcd."""
    ctx = Context(root=str(root), cwd=str(root), me=Identity(agent, "env"), busy_timeout=busy_timeout)
    if url is not None:
        ctx.store.close()
        ctx.store = EtcdStore(Client.from_url(url), namespace, str(root), ctx=ctx)
    ctx.store.check_in()
    return ctx


def spec(ctx, raw):
    return lockspec.parse(ctx, raw)
