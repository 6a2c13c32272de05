"""An etcd v3 client over the JSON gateway, with the standard library only.

Wire rules: every path starts with /v3/ (etcd 3.4 and later), keys and
values travel base64-encoded, 64-bit numbers are JSON strings.

Failover: a request goes to the member that answered last. On a connection
error, or an answer that says the member cannot serve it now (no leader,
unavailable, timed out), the request moves to the next member, round the
list, until the call's overall time bound; then Unreachable (no member took a
connection) or Timeout (some did, none served). A retried write may already
have been applied by the member that failed to reply, so callers make writes
idempotent: a nonce in the value, checked in the transaction's failure branch.

Import cost: at import time only os and time; binascii, json and socket
come with the first request, ssl only for etcd+https://. The
transport is our own small HTTP/1.1 (http11.py): http.client alone costs
about 35 ms to import.
"""

import os
import time

# Re-exported, so callers need only this module: the errors, request builders and result types.
from .errors import (AuthFailed, Compacted, ConfigError, EtcdError, LeaseNotFound, PermissionDenied,  # noqa: F401
                     QuotaExceeded, RequestError, Timeout, TxnConflict, Unreachable, from_reply,
                     is_token_error, refusal, retryable)
from .wire import (DeleteResult, Event, KeyValue, Lease, Member, PutResult, RangeResult, Status,  # noqa: F401
                   TxnResult, WatchBatch, compare, delete_request, op_delete, op_put, op_range, op_txn,
                   prefix_end, put_request, range_request, revision_of, watch_request)

DEFAULT_PORT = 2379
TLS_SCHEMES = {"etcd": False, "etcd+https": True}
DEFAULT_TIMEOUT = 5.0  # the overall bound of one call, all members and retries included
# One member's share of the bound. A follower holds a write it forwarded to a leader that just
# died until its own request timeout (5 s and more), so a shorter attempt moves on sooner: with
# the leader SIGKILLed, writes stalled 2.0 s with 2.0 here, 1.0-1.25 s with 1.0 (0.5 s election).
ATTEMPT_TIMEOUT = 1.0
BACKOFF_MIN, BACKOFF_MAX = 0.02, 0.25  # pause between passes over the members

TYPE_CHECKING = False  # mypy reads it as True; typing itself costs an import
if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

    from .http11 import Connection
    from .watch import Watch
    from .wire import Data, Json, Request

    Endpoint = tuple[str, int]  # (host, port) of one member


# ---------------------------------------------------------------------------
# Backend URLs


def parse_url(url: str) -> "tuple[bool, list[Endpoint]]":
    """(tls, [(host, port), ...]) from `etcd://h1:2379,h2:2379` or `etcd+https://...`."""
    scheme, sep, rest = str(url).strip().partition("://")
    if not sep or scheme.lower() not in TLS_SCHEMES:
        raise ConfigError(f"backend {url!r}: use etcd://host:port,host:port or etcd+https://host:port,...")
    endpoints = []
    for item in rest.rstrip("/").split(","):
        item = item.strip()
        if not item:
            continue
        if "/" in item or "@" in item or "?" in item:
            raise ConfigError(f"backend {url!r}: only host:port items (credentials come from "
                              "AGENT_SYNC_ETCD_USER and AGENT_SYNC_ETCD_PASSWORD)")
        endpoints.append(_host_port(item, url))
    if not endpoints:
        raise ConfigError(f"backend {url!r} names no member")
    return TLS_SCHEMES[scheme.lower()], endpoints


def _host_port(item: str, url: str) -> "Endpoint":
    if item.startswith("["):  # an IPv6 literal
        host, _, tail = item[1:].partition("]")
        if tail and not tail.startswith(":"):
            raise ConfigError(f"backend {url!r}: bad member {item!r}")
        port = tail[1:]
    elif item.count(":") == 1:
        host, port = item.split(":")
    elif ":" in item:
        raise ConfigError(f"backend {url!r}: write IPv6 members as [addr]:port")
    else:
        host, port = item, ""
    if not host:
        raise ConfigError(f"backend {url!r}: member {item!r} has no host")
    if not port:
        return host, DEFAULT_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"backend {url!r}: bad port in {item!r}")
    return host, int(port)


# ---------------------------------------------------------------------------
# The client


class Client:
    """Talks to a list of members; see the module docstring for the failover rules.

    Not thread-safe: one client per thread (the CLI has one thread).
    """

    def __init__(self, endpoints: "Sequence[Endpoint]", tls: bool = False, ca_file: str | None = None,
                 user: str | None = None, password: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 attempt_timeout: float = ATTEMPT_TIMEOUT) -> None:
        if not endpoints:
            raise ConfigError("no etcd member given")
        self.endpoints = [(str(host), int(port)) for host, port in endpoints]
        self.tls, self.ca_file = tls, ca_file
        self.user, self.password = user, password or ""
        self.timeout, self.attempt_timeout = timeout, attempt_timeout
        self._ssl_context: "ssl.SSLContext | None" = None
        self._conns: "dict[int, Connection]" = {}
        self._preferred = 0
        self._token: str | None = None
        self._auth_off = False  # credentials given, but the cluster has auth disabled

    @classmethod
    def from_url(cls, url: str, environ: "Mapping[str, str] | None" = None, **options: float) -> "Client":
        """A client for a backend URL, with credentials and CA from the environment."""
        env = os.environ if environ is None else environ
        tls, endpoints = parse_url(url)
        return cls(endpoints, tls=tls, ca_file=env.get("AGENT_SYNC_ETCD_CA") or None,
                   user=env.get("AGENT_SYNC_ETCD_USER") or None,
                   password=env.get("AGENT_SYNC_ETCD_PASSWORD", ""), **options)

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def preferred(self) -> "Endpoint":
        """The (host, port) that answered last."""
        return self.endpoints[self._preferred]

    # -- transport ----------------------------------------------------------

    def _context(self) -> "ssl.SSLContext":
        if self._ssl_context is None:
            import ssl

            if self.ca_file and not os.path.isfile(self.ca_file):
                raise ConfigError(f"AGENT_SYNC_ETCD_CA={self.ca_file!r} is not a readable file")
            try:
                self._ssl_context = ssl.create_default_context(cafile=self.ca_file)
            except (ssl.SSLError, OSError) as exc:
                raise ConfigError(f"AGENT_SYNC_ETCD_CA={self.ca_file!r}: {exc}") from None
        return self._ssl_context

    def connection(self, index: int) -> "Connection":
        """The kept-alive connection to member `index`."""
        conn = self._conns.get(index)
        if conn is None:
            from .http11 import Connection

            host, port = self.endpoints[index]
            conn = Connection(host, port, self._context() if self.tls else None)
            self._conns[index] = conn
        return conn

    def release_connection(self, index: int) -> "Connection | None":
        """Hand member `index`'s connection over (to a watch); short calls open a fresh one."""
        return self._conns.pop(index, None)

    def prefer_after(self, index: int) -> None:
        """Start the next attempt at the member after `index` (it just failed us)."""
        self._preferred = (index + 1) % len(self.endpoints)

    def order(self, only: int | None = None) -> list[int]:
        """Member indexes to try, the one that answered last first."""
        if only is not None:
            return [only]
        n = len(self.endpoints)
        return [(self._preferred + i) % n for i in range(n)]

    def headers(self) -> dict[str, str]:
        return {"Authorization": self._token} if self._token else {}

    def attempt_deadline(self, deadline: float) -> float:
        return min(deadline, time.monotonic() + self.attempt_timeout)

    def gave_up(self, failures: "dict[Endpoint, str]", reached: bool, bound: float) -> EtcdError:
        """The error for a call whose time bound ran out."""
        detail = "; ".join(f"{host}:{port}: {why}" for (host, port), why in failures.items()) or "no attempt"
        if reached:
            return Timeout(f"etcd did not answer within {bound:g}s ({detail})")
        return Unreachable(f"no etcd member reachable within {bound:g}s ({detail})")

    def note_failure(self, exc: OSError, conn: "Connection") -> str:
        """A description of a transport failure; an untrusted TLS certificate is raised at once."""
        from .http11 import ConnectionLost

        if self.tls:
            import ssl

            if isinstance(exc, ssl.SSLCertVerificationError):
                raise ConfigError(f"etcd at {conn.host_header}: TLS certificate not trusted ({exc.verify_message});"
                                  " set AGENT_SYNC_ETCD_CA to the cluster's CA file") from None
            if isinstance(exc, ssl.SSLError):
                return f"TLS failed ({exc.reason or exc}); if the cluster is plain HTTP, write etcd://"
        if isinstance(exc, TimeoutError):
            return "timed out"
        if isinstance(exc, ConnectionLost) and not self.tls and not conn.served:
            return f"{exc} without answering; if the cluster uses TLS, write etcd+https://"
        return str(exc) or type(exc).__name__

    def _exchange(self, conn: "Connection", path: str, body: bytes,
                  deadline: float) -> tuple[int, dict[str, str], bytes]:
        """One request on `conn`, sent again once if a reused keep-alive socket turns out closed."""
        from .http11 import ConnectionLost

        reused = conn.served > 0
        try:
            return conn.request(path, body, self.headers(), deadline)
        except (ConnectionLost, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            conn.close()
            return conn.request(path, body, self.headers(), deadline)

    def call(self, path: str, payload: "Mapping[str, object]", timeout: float | None = None,
             endpoint: int | None = None, authed: bool = True, stream: bool = False) -> "Json":
        """The decoded reply of POST /v3/<path>, with failover (or only member index `endpoint`).

        With `stream`, the reply is a stream of JSON lines: the first one is decoded.
        """
        import json

        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        bound = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + bound
        failures: "dict[Endpoint, str]" = {}
        reached, delay, refreshed = False, BACKOFF_MIN, False
        while True:
            pending = self.order(endpoint)
            while pending:
                index = pending.pop(0)
                if time.monotonic() >= deadline:
                    raise self.gave_up(failures, reached, bound)
                if authed:
                    self.ensure_token(deadline)
                conn = self.connection(index)
                try:
                    status, _head, data = self._exchange(conn, "/v3/" + path, body, self.attempt_deadline(deadline))
                except OSError as exc:
                    reached = reached or conn.sock is not None
                    failures[self.endpoints[index]] = self.note_failure(exc, conn)
                    conn.close()
                    continue
                reached = True
                if stream and status == 200:
                    data = data.split(b"\n", 1)[0]
                    if data.startswith(b'{"error"'):
                        status = 500  # an error inside the stream: handled like a refused request
                if status == 200:
                    self._preferred = index
                    return json.loads(data)
                code, message = from_reply(status, data)
                if retryable(status, code, message):
                    failures[self.endpoints[index]] = message
                    continue
                if authed and self.user and not refreshed and is_token_error(code, message):
                    # Expired, or forgotten by a restarted member: log in again, then the same member.
                    self._token, refreshed = None, True
                    pending.insert(0, index)
                    continue
                raise refusal(conn.host_header, status, code, message)
            left = deadline - time.monotonic()
            if left <= 0:
                raise self.gave_up(failures, reached, bound)
            time.sleep(min(delay, left))
            delay = min(delay * 2, BACKOFF_MAX)

    # -- auth ---------------------------------------------------------------

    def ensure_token(self, deadline: float) -> None:
        """Log in first if credentials are set and no token is held."""
        if self.user and self._token is None and not self._auth_off:
            self.authenticate(max(0.0, deadline - time.monotonic()))

    def forget_token(self) -> None:
        """Drop the token (the server refused it): the next request logs in again."""
        self._token = None

    def authenticate(self, timeout: float | None = None) -> str | None:
        """Log in with the configured user; later requests carry the token."""
        try:
            reply = self.call("auth/authenticate", {"name": self.user, "password": self.password},
                              timeout, authed=False)
        except RequestError as exc:
            if "authentication is not enabled" in str(exc):
                self._auth_off = True
                return None
            raise
        except AuthFailed as exc:
            raise AuthFailed(f"{exc} as user {self.user!r}") from None
        self._token = reply.get("token") or None
        return self._token

    # -- key-value ----------------------------------------------------------

    def range(self, key: "Data", timeout: float | None = None, **options: "Any") -> RangeResult:
        """Keys at `key` (or the range / prefix), at the current or a given revision."""
        return RangeResult(self.call("kv/range", range_request(key, **options), timeout))

    def get(self, key: "Data", timeout: float | None = None, **options: "Any") -> KeyValue | None:
        """The KeyValue at `key`, or None."""
        kvs = self.range(key, timeout, **options).kvs
        return kvs[0] if kvs else None

    def put(self, key: "Data", value: "Data", lease: int = 0, prev_kv: bool = False,
            timeout: float | None = None) -> PutResult:
        return PutResult(self.call("kv/put", put_request(key, value, lease, prev_kv), timeout))

    def delete(self, key: "Data", range_end: "Data | None" = None, prefix: bool = False, prev_kv: bool = False,
               timeout: float | None = None) -> DeleteResult:
        return DeleteResult(self.call("kv/deleterange", delete_request(key, range_end, prefix, prev_kv), timeout))

    def txn(self, compares: "Iterable[Request]", success: "Iterable[Request]" = (),
            failure: "Iterable[Request]" = (), require: bool = False, timeout: float | None = None) -> TxnResult:
        """All compares hold → the success ops, else the failure ops; atomically, at one revision.

        With `require`, a failed compare raises TxnConflict (the result rides on it).
        """
        payload = {"compare": list(compares), "success": list(success), "failure": list(failure)}
        result = TxnResult(self.call("kv/txn", payload, timeout))
        if require and not result.succeeded:
            raise TxnConflict(f"transaction compare failed at revision {result.revision}", result)
        return result

    def compact(self, revision: int, physical: bool = False, timeout: float | None = None) -> int:
        payload: dict[str, object] = {"revision": str(int(revision))}
        if physical:
            payload["physical"] = True
        return revision_of(self.call("kv/compaction", payload, timeout))

    # -- leases -------------------------------------------------------------

    def lease_grant(self, ttl: float, lease_id: int = 0, timeout: float | None = None) -> Lease:
        payload = {"TTL": str(int(ttl))}
        if lease_id:
            payload["ID"] = str(int(lease_id))
        reply = self.call("lease/grant", payload, timeout)
        if reply.get("error"):
            raise RequestError(f"etcd: lease grant refused: {reply['error']}")
        return Lease(reply)

    def lease_revoke(self, lease_id: int, timeout: float | None = None) -> int:
        return revision_of(self.call("lease/revoke", {"ID": str(int(lease_id))}, timeout))

    def lease_keepalive(self, lease_id: int, timeout: float | None = None) -> int:
        """Renew a lease once; its new TTL in seconds. LeaseNotFound when it is gone.

        The gateway's keepalive is a stream, but it ends with our request
        body: one request gets one answer line.
        """
        reply = self.call("lease/keepalive", {"ID": str(int(lease_id))}, timeout, stream=True)
        ttl = int(reply.get("result", {}).get("TTL", 0))
        if ttl <= 0:
            raise LeaseNotFound(f"etcd: lease {lease_id} has expired or was revoked")
        return ttl

    def lease_time_to_live(self, lease_id: int, keys: bool = False, timeout: float | None = None) -> Lease:
        """The lease's remaining TTL (and, with `keys`, the keys attached). LeaseNotFound when gone."""
        payload: dict[str, object] = {"ID": str(int(lease_id))}
        if keys:
            payload["keys"] = True
        lease = Lease(self.call("lease/timetolive", payload, timeout))
        if lease.ttl < 0:
            raise LeaseNotFound(f"etcd: lease {lease_id} has expired or was revoked")
        return lease

    # -- cluster ------------------------------------------------------------

    def members(self, timeout: float | None = None) -> list[Member]:
        return [Member(m) for m in self.call("cluster/member/list", {}, timeout).get("members", ())]

    def status(self, endpoint: int | None = None, timeout: float | None = None) -> Status:
        """One member's status: member `endpoint` (an index), or whichever answers."""
        reply = self.call("maintenance/status", {}, timeout, endpoint=endpoint, authed=False)
        index = self._preferred if endpoint is None else endpoint
        return Status(self.endpoints[index], reply)

    def statuses(self, timeout: float = 1.0) -> "list[tuple[Endpoint, Status | EtcdError]]":
        """[(endpoint, Status or EtcdError)] for every configured member, asked one by one."""
        found: "list[tuple[Endpoint, Status | EtcdError]]" = []
        for index, endpoint in enumerate(self.endpoints):
            try:
                found.append((endpoint, self.status(index, timeout)))
            except EtcdError as exc:
                found.append((endpoint, exc))
        return found

    # -- watch --------------------------------------------------------------

    def watch(self, key: "Data", range_end: "Data | None" = None, prefix: bool = False, start_revision: int = 0,
              prev_kv: bool = False, progress_notify: bool = True) -> "Watch":
        """A Watch of the key (or range / prefix) from `start_revision` (0: from now)."""
        from .watch import Watch

        create = watch_request(key, range_end, prefix, prev_kv, progress_notify)
        return Watch(self, create, int(start_revision))
