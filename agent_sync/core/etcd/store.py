"""EtcdStore: the Store interface (core.store) on an etcd v3 cluster.

Construction (the backend selection in core.store.open_store does this):

    client = Client.from_url("etcd://10.0.0.5:2379,10.0.0.6:2379")
    store = EtcdStore(client, namespace, ctx.root, ctx=ctx)

- `client`: a core.etcd.client.Client; the store owns it from then on (close()).
- `namespace`: the key prefix part shared by every clone of the repository
  (the root commit, or "namespace" in .claude/agent-sync.json); see keys.py.
- `repo_root`: this checkout's root, for the local files (hook cache) only.
- `ctx`: the Context whose caller (ctx.me) and clock (ctx.now) the methods use.
- `case_insensitive`: fold lock keys; only the namespace's first writer
  decides (P/meta), later clones follow what it recorded.

Every write is "read at one revision, decide with the shared rule modules,
commit if nothing read has changed", carrying a nonce; see DESIGN.md.
"""

from ..store import Store
from .keys import Keys


class EtcdStore(Store):
    """Coordination state under agent-sync/<namespace>/ in etcd."""

    backend = "etcd"

    def __init__(self, client, namespace, repo_root, ctx=None, case_insensitive=None):
        super().__init__(ctx)
        self.client = client
        self.keys = Keys(namespace)
        self.namespace = namespace
        self.repo_root = repo_root
        self._fold = case_insensitive

    def close(self):
        self.client.close()

    @property
    def location(self):
        members = ",".join(f"{host}:{port}" for host, port in self.client.endpoints)
        scheme = "etcd+https" if self.client.tls else "etcd"
        return f"{scheme}://{members} namespace {self.namespace}"
