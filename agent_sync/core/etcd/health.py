"""What `doctor` and `remote status` report about the etcd backend: members, leader, access, the cache.

Plain data and findings only; the CLI prints them.
"""

import time

from .. import cachestamp, config
from . import watcher
from .errors import AuthFailed, EtcdError
from .keys import Keys, loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..backend import Backend
    from ..repair import Report
    from .client import Client


def cluster(client: "Client", timeout: float = 1.0) -> dict:
    """{"members": [...], "leader": name or None, "revision": n, "agree": bool} from every configured member."""
    rows, leaders, revision = [], set(), 0
    names = {}
    try:
        names = {m.id: m.name for m in client.members(timeout=timeout)}
    except EtcdError:
        pass
    for (host, port), status in client.statuses(timeout):
        row: dict[str, object] = {"endpoint": f"{host}:{port}"}
        if isinstance(status, EtcdError):
            row.update(ok=False, error=str(status))
        else:
            row.update(ok=True, name=names.get(status.member_id, f"{status.member_id:x}"),
                       id=f"{status.member_id:x}", leader=status.is_leader, revision=status.revision,
                       raft_term=status.raft_term, version=status.version, db_size=status.db_size,
                       errors=list(status.errors))
            if status.leader:
                leaders.add(status.leader)
            revision = max(revision, status.revision)
        rows.append(row)
    leader = next(iter(leaders)) if len(leaders) == 1 else None
    return {"members": rows, "leader": names.get(leader, f"{leader:x}") if leader else None,
            "revision": revision, "agree": len(leaders) == 1}


def cache_state(root: str, revision: int | None = None, now: float | None = None) -> dict:
    """The local cache: its applied revision, age, lag behind the cluster and whether a watcher runs."""
    now = time.time() if now is None else now
    stamp = cachestamp.read(root)
    doc: dict[str, object] = {"watcher": watcher.running(root, now), "stale_after": config.duration("AGENT_SYNC_CACHE_STALE")}
    if stamp is None:
        doc.update(revision=None, age=None, lag=None)
    else:
        doc.update(revision=stamp[0], age=round(max(0.0, now - stamp[1]), 3),
                   lag=None if revision is None else max(0, revision - stamp[0]))
    return doc


def check(report: "Report", backend: "Backend", root: str, ok: str, note: str, fail: str) -> None:
    """Add doctor's findings for the etcd backend: reachable, authenticated, consistent, cache fresh."""
    client = backend.client(timeout=3.0)
    try:
        state = cluster(client)
        up = [m for m in state["members"] if m["ok"]]
        down = [m for m in state["members"] if not m["ok"]]
        if not up:
            report.add(fail, "etcd", f"no member of {backend.describe()} answers: {down[0]['error']}",
                       "start the cluster, or fix \"backend\" in .claude/agent-sync.json / AGENT_SYNC_BACKEND")
            return
        for member in down:
            report.add(note, "etcd", f"member {member['endpoint']} does not answer: {member['error']}",
                       "check that member (the others still serve)")
        if not state["agree"] or state["leader"] is None:
            report.add(fail, "etcd", "the members do not agree on a leader (no quorum?)",
                       "agent-sync remote status; bring a majority of members up")
            return
        report.add(ok, "etcd", f"{len(up)} of {len(state['members'])} members answer; leader {state['leader']}, "
                               f"revision {state['revision']}")
        namespace = backend.namespace(root)
        keys = Keys(namespace)
        try:
            meta = client.get(keys.meta)
        except AuthFailed as exc:
            report.add(fail, "etcd", f"access refused: {exc}",
                       "set AGENT_SYNC_ETCD_USER / AGENT_SYNC_ETCD_PASSWORD (read-write on agent-sync/<namespace>/)")
            return
        if meta is None:
            report.add(note, "etcd", f"namespace {namespace} is empty (the first write creates it)", "")
        else:
            schema = loads(meta.value).get("schema")
            report.add(ok, "etcd", f"namespace {namespace}: readable and written (schema {schema})")
        cache = cache_state(root, state["revision"])
        bound = cache["stale_after"]
        if cache["age"] is None:
            report.add(note, "cache", "the hooks' cache has not been written yet (the next command writes it)", "")
        elif cache["age"] > bound:
            report.add(note, "cache",
                       f"the hooks' cache is {cache['age']:.0f}s old (limit {bound:g}s); "
                       f"watcher {'running' if cache['watcher'] else 'not running'}",
                       "hooks ask etcd directly meanwhile; any agent-sync command starts the watcher")
        else:
            report.add(ok, "cache", f"the hooks' cache is {cache['age']:.1f}s old, {cache['lag']} revisions behind")
    except EtcdError as exc:
        report.add(fail, "etcd", str(exc), "agent-sync remote status")
    finally:
        client.close()
