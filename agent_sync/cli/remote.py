"""`agent-sync remote status|watcher` and `agent-sync migrate`: the etcd backend seen from this checkout."""

import os
import sys

from ..core import backend, repo
from ..core.errors import OK, UsageError

ACTIONS = ("status", "watcher")


def _etcd_backend(root):
    choice = backend.resolve(root)
    if not choice.is_etcd:
        raise UsageError(f"this repository uses the local SQLite store ({choice.source}); set \"backend\" in "
                         f"{backend.SHOWN} or {backend.ENV}=etcd://host:2379 to use etcd")
    return choice


def cmd_remote(_ctx, args):
    root = repo.find_root(os.getcwd())
    choice = _etcd_backend(root)
    if args.action == "watcher":
        from ..core.etcd.watcher import Watcher

        with backend.engine_errors():
            return Watcher(root, choice, out=None if args.quiet else sys.stderr).run()
    return _status(root, choice, args)




def _status(root, choice, args):
    from ..core.etcd import health
    from .handlers import emit

    client = choice.client(timeout=2.0)
    try:
        with backend.engine_errors():
            state = health.cluster(client)
    finally:
        client.close()
    namespace = choice.namespace(root)
    cache = health.cache_state(root, state["revision"] or None)
    doc = {"version": 1, "kind": "remote", "backend": choice.describe(), "source": choice.source,
           "namespace": namespace, **state, "cache": cache}
    lines = [f"backend   {choice.describe()} (from {choice.source}), namespace {namespace}"]
    for m in state["members"]:
        if m["ok"]:
            role = "leader" if m["leader"] else "follower"
            lines.append(f"member    {m['endpoint']}  {m['name']}  {role}  revision {m['revision']}  "
                         f"term {m['raft_term']}  etcd {m['version']}")
        else:
            lines.append(f"member    {m['endpoint']}  DOWN: {m['error']}")
    lines.append(f"leader    {state['leader'] or 'none (no quorum, or members disagree)'}")
    lines.append(f"revision  {state['revision']}")
    if cache["age"] is None:
        lines.append("cache     never written (any agent-sync command writes it)")
    else:
        lag = "?" if cache["lag"] is None else cache["lag"]
        lines.append(f"cache     revision {cache['revision']}, {lag} behind, confirmed {cache['age']:.1f}s ago "
                     f"(stale after {cache['stale_after']:g}s); watcher {'running' if cache['watcher'] else 'stopped'}")
    emit(args, doc, "\n".join(lines))
    return OK if any(m["ok"] for m in state["members"]) else 5


def cmd_migrate(_ctx, args):
    from ..core import migrate

    root = repo.find_root(os.getcwd())
    choice = _etcd_backend(root)
    with backend.engine_errors():
        done = migrate.to_etcd(root, choice)
    print(f"migrated into {choice.describe()} namespace {choice.namespace(root)}: "
          f"{done['tasks']} tasks, {done['locks']} locks, {done['messages']} unread messages, "
          f"{done['agents']} agents")
    for old, new in sorted(done["task_ids"].items()):
        if old != new:
            print(f"task #{old} is now #{new}")
    return OK


