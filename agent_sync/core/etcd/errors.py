"""What can go wrong talking to etcd, as exception classes callers can map.

The store maps Unreachable and Timeout to the busy exit code; the rest say
what the server refused. Every message names the member that answered.
The functions at the end classify the gateway's error replies.
"""

TYPE_CHECKING = False  # mypy reads it as True; typing itself costs an import
if TYPE_CHECKING:
    from .wire import TxnResult


class EtcdError(Exception):
    """Base of every error the etcd client raises."""


class ConfigError(EtcdError):
    """The backend URL or the TLS settings cannot be used (a user mistake)."""


class Unreachable(EtcdError):
    """No member accepted a connection within the time bound."""


class Timeout(EtcdError):
    """Members were reachable, but none served the request within the time bound
    (no leader yet, a slow disk, a request that timed out on the server)."""


class AuthFailed(EtcdError):
    """The user name or password was refused, or auth is on and no credentials were given."""


class PermissionDenied(AuthFailed):
    """Authenticated, but the user's roles do not allow this key range."""


class Compacted(EtcdError):
    """The requested revision has been compacted away; read the current state again."""

    def __init__(self, message: str, compact_revision: int = 0) -> None:
        super().__init__(message)
        self.compact_revision = compact_revision


class TxnConflict(EtcdError):
    """A transaction's compares failed (raised only when the caller asked for it)."""

    def __init__(self, message: str, result: "TxnResult") -> None:
        super().__init__(message)
        self.result = result


class LeaseNotFound(EtcdError):
    """The lease expired or was revoked."""


class QuotaExceeded(EtcdError):
    """The cluster raised its NOSPACE alarm: writes are refused until it is compacted and defragmented."""


class RequestError(EtcdError):
    """The server refused the request for another reason; `code` is the gRPC status code."""

    def __init__(self, message: str, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


# gRPC status codes, as the gateway reports them in "code".
DEADLINE_EXCEEDED, PERMISSION_DENIED, UNAVAILABLE, UNAUTHENTICATED = 4, 7, 14, 16

# Answers after which another member (or the same one a moment later) may succeed.
RETRY_CODES = {DEADLINE_EXCEEDED, UNAVAILABLE}
RETRY_TEXTS = ("no leader", "leader changed", "request timed out", "proposal dropped", "too many requests",
               "server stopped", "not capable", "unhealthy cluster", "timed out")
TOKEN_TEXTS = ("invalid auth token", "auth token is expired", "revision of auth store is old")


def from_reply(status: int, data: bytes) -> tuple[int | None, str]:
    """(grpc code or None, message) of a refused request."""
    import json

    try:
        raw = json.loads(data)
    except ValueError:
        return None, f"HTTP {status}: {data[:200].decode('utf-8', 'replace').strip()}"
    if isinstance(raw, dict) and isinstance(raw.get("error"), dict):  # a stream's error object
        raw = raw["error"]
        return raw.get("grpc_code"), str(raw.get("message", ""))
    if not isinstance(raw, dict):
        return None, f"HTTP {status}"
    return raw.get("code"), str(raw.get("message") or raw.get("error") or f"HTTP {status}")


def retryable(status: int, code: int | None, message: str) -> bool:
    return code in RETRY_CODES or status in (502, 503, 504) or any(t in message for t in RETRY_TEXTS)


def is_token_error(code: int | None, message: str) -> bool:
    return code == UNAUTHENTICATED or any(t in message for t in TOKEN_TEXTS)


def refusal(where: str, status: int, code: int | None, message: str) -> EtcdError:
    """The exception for a request a member refused for good."""
    text = f"etcd at {where}: {message}"
    if "compacted" in message:
        return Compacted(text)
    if "lease not found" in message:
        return LeaseNotFound(text)
    if "space exceeded" in message or "NOSPACE" in message:
        return QuotaExceeded(text)
    if code == PERMISSION_DENIED or "permission denied" in message:
        return PermissionDenied(text)
    if "user name is empty" in message or "authentication failed" in message or is_token_error(code, message):
        return AuthFailed(text + " (set AGENT_SYNC_ETCD_USER and AGENT_SYNC_ETCD_PASSWORD)")
    return RequestError(text, code, status)
