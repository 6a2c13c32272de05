"""Which store a repository uses: the committed config file, the environment, and the etcd namespace.

`.claude/agent-sync.json` may say `{"backend": "etcd://h1:2379,h2:2379"}` (and
`"namespace"`); AGENT_SYNC_BACKEND overrides it with the same URL form, or
`sqlite` to force the local store. No config: SQLite, as always. Credentials
never come from the repository: AGENT_SYNC_ETCD_USER / _PASSWORD and the CA
file AGENT_SYNC_ETCD_CA are read from the environment by the client.

Every clone of one repository lands in the same namespace without any
setting: it is the repository's root commit, which all clones share.

Also here, once: how etcd client errors become agent-sync errors (exit codes).
"""

import os
import sys

from . import repo
from .cachestamp import BACKEND_VAR, CONFIG_PARTS
from .errors import AgentSyncError, Busy, NotFound, StorageError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from .etcd.client import Client

CONFIG_NAME = CONFIG_PARTS[-1]  # in .claude/, committed
ENV = BACKEND_VAR
SQLITE, ETCD = "sqlite", "etcd"
NS_CACHE = "etcd.ns"  # state-dir file: the derived namespace, so git runs once per checkout
SETTINGS = ("backend", "namespace")
SHOWN = f".claude/{CONFIG_NAME}"  # how messages name the file
NAMESPACE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
KEY_ROOT = "agent-sync/"  # every key of every namespace starts here (an auth role can be scoped to it)


def config_path(root: str) -> str:
    return os.path.join(root, *CONFIG_PARTS)


def good_namespace(text: object) -> bool:
    return isinstance(text, str) and 0 < len(text) <= 64 and set(text) <= NAMESPACE_CHARS and text[0].isalnum()


class Backend:
    """The resolved choice: `kind` (sqlite or etcd), where it came from, and for etcd the URL."""

    def __init__(self, kind: str, source: str, url: str | None = None, namespace: str | None = None) -> None:
        self.kind, self.source, self.url, self.configured_namespace = kind, source, url, namespace

    @property
    def is_etcd(self) -> bool:
        return self.kind == ETCD

    def describe(self) -> str:
        """For people and `status --json`: `sqlite`, or the URL (no credentials: they are never in it)."""
        return self.url if self.is_etcd and self.url else SQLITE

    def client(self, timeout: float | None = None, environ: "Mapping[str, str] | None" = None) -> "Client":
        """An etcd client for this backend (bad URL or CA: UsageError)."""
        from .etcd import client as etcd

        options = {} if timeout is None else {"timeout": timeout}
        with engine_errors():
            client = etcd.Client.from_url(str(self.url), environ, **options)
        return client

    def namespace(self, root: str) -> str:
        """The configured namespace, else the repository's root commit (cached in the state dir)."""
        if self.configured_namespace:
            return self.configured_namespace
        return derived_namespace(root)

    def prefix(self, root: str) -> str:
        return f"{KEY_ROOT}{self.namespace(root)}/"


def resolve(root: str, environ: "Mapping[str, str] | None" = None) -> Backend:
    """The Backend for the repository at `root`; a bad file or variable is a one-line UsageError."""
    env = os.environ if environ is None else environ
    doc = _read_config(root)
    namespace = doc.get("namespace")
    if namespace is not None and not good_namespace(namespace):
        raise UsageError(f"{SHOWN}: \"namespace\" must be 1-64 letters, digits, '.', '_' or '-' "
                         "(starting with a letter or digit)")
    raw = env.get(ENV, "").strip()
    if raw:
        return _from_url(raw, f"{ENV}", namespace)
    value = doc.get("backend")
    if value is None:
        return Backend(SQLITE, "default")
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{SHOWN}: \"backend\" must be a string such as \"etcd://host:2379\" or \"sqlite\"")
    return _from_url(value.strip(), SHOWN, namespace)


def _from_url(url: str, source: str, namespace: str | None) -> Backend:
    if url.lower() == SQLITE:
        return Backend(SQLITE, source)
    from .etcd.client import parse_url
    from .etcd.errors import ConfigError

    try:
        parse_url(url)
    except ConfigError as exc:
        raise UsageError(f"{source}: {exc}") from None
    return Backend(ETCD, source, url, namespace)


def _read_config(root: str) -> dict:
    path = config_path(root)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{SHOWN}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    import json

    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{SHOWN}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{SHOWN}: must be a JSON object such as {{\"backend\": \"etcd://host:2379\"}}")
    unknown = sorted(set(doc) - set(SETTINGS))
    if unknown:
        raise UsageError(f"{SHOWN}: unknown setting {unknown[0]!r} (known: {', '.join(SETTINGS)})")
    return doc


def derived_namespace(root: str) -> str:
    """The root commit's hash (the smallest, if the history has several roots)."""
    cache = os.path.join(repo.state_dir(root), NS_CACHE)
    try:
        with open(cache, encoding="utf-8") as handle:
            cached = handle.read().strip()
        if good_namespace(cached):
            return cached
    except OSError:
        pass
    import subprocess

    try:
        done = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot derive the etcd namespace from git ({exc}); set \"namespace\" in "
                         f".claude/{CONFIG_NAME}") from None
    roots = sorted(line.strip() for line in done.stdout.splitlines() if line.strip())
    if done.returncode != 0 or not roots:
        raise UsageError("the etcd namespace comes from the repository's first commit, and there is none yet: "
                         f"commit once, or set \"namespace\" in .claude/{CONFIG_NAME}")
    try:
        os.makedirs(repo.state_dir(root), exist_ok=True)
        with open(cache, "w", encoding="utf-8") as handle:
            handle.write(roots[0] + "\n")
    except OSError:
        pass  # derived again next time
    return roots[0]


class engine_errors:
    """Turn etcd client errors into agent-sync errors (exit codes), the one place that does.

    Unreachable / Timeout → Busy (5); a bad URL or CA → UsageError (2); refused
    credentials, permissions, a full cluster or any other refusal → StorageError
    (7); an expired lease → NotFound (4).
    """

    def __enter__(self) -> "engine_errors":
        return self

    def __exit__(self, kind: object, exc: BaseException | None, _tb: object) -> None:
        e = sys.modules.get(f"{__package__}.etcd.errors")  # not loaded: nothing raised can be an etcd error
        if e is not None and isinstance(exc, e.EtcdError):
            raise translate(exc) from None


def translate(exc: Exception) -> AgentSyncError:
    from .etcd import errors as e

    text = str(exc)
    if isinstance(exc, (e.Unreachable, e.Timeout)):
        return Busy(f"{text}; the write was not made (is the etcd cluster up? `agent-sync remote status`)")
    if isinstance(exc, e.ConfigError):
        return UsageError(text)
    if isinstance(exc, e.PermissionDenied):
        return StorageError(f"{text} (the etcd user needs read-write on {KEY_ROOT}<namespace>/)")
    if isinstance(exc, e.AuthFailed):
        return StorageError(text)
    if isinstance(exc, e.QuotaExceeded):
        return StorageError(f"etcd is full: {text} (compact and defragment the cluster)")
    if isinstance(exc, e.LeaseNotFound):
        return NotFound(text)
    return StorageError(text)
