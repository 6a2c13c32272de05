"""MCP over stdio: one JSON-RPC 2.0 message per line, and the two protocol eras.

Handshake era (2025-06-18, 2025-11-25): `initialize` picks the version once
per connection and results are plain. Per-request era (2026-07-28): there is
no handshake; every request names its version in
`_meta["io.modelcontextprotocol/protocolVersion"]`, `server/discover` says
what the server speaks, and results carry `resultType` (plus `ttlMs` and
`cacheScope` on list and read results).
"""

import json

JSONRPC = "2.0"
HANDSHAKE_VERSIONS = ("2025-06-18", "2025-11-25")
MODERN_VERSIONS = ("2026-07-28",)
LATEST_HANDSHAKE = HANDSHAKE_VERSIONS[-1]
VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
RESOURCE_NOT_FOUND = -32002
UNSUPPORTED_VERSION = -32022

CACHEABLE = ("server/discover", "tools/list", "resources/list", "resources/templates/list", "resources/read",
             "prompts/list")


class RpcError(Exception):
    """A request that gets a JSON-RPC error response instead of a result."""

    def __init__(self, code, message, data=None, msg_id=None):
        super().__init__(message)
        self.code, self.message, self.data, self.msg_id = code, message, data, msg_id


class Request:
    """One incoming message: a request (has an id) or a notification (has none)."""

    __slots__ = ("id", "is_notification", "method", "params")

    def __init__(self, method, params, msg_id=None, is_notification=False):
        self.method, self.params, self.id, self.is_notification = method, params, msg_id, is_notification

    @property
    def meta(self):
        meta = self.params.get("_meta")
        return meta if isinstance(meta, dict) else {}

    @property
    def version(self):
        """The per-request protocol version (2026-07-28 era), or None in the handshake era."""
        value = self.meta.get(VERSION_KEY)
        return value if isinstance(value, str) else None

    @property
    def client_info(self):
        info = self.meta.get(CLIENT_INFO_KEY) or self.params.get("clientInfo")
        return info if isinstance(info, dict) else {}


def decode(line):
    """A Request from one line, or raise RpcError (with the id when one could be read).

    Returns None for lines that need no answer: blank lines and responses.
    """
    if not line.strip():
        return None
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RpcError(PARSE_ERROR, f"parse error: {exc}") from None
    if isinstance(message, list):
        raise RpcError(INVALID_REQUEST, "JSON-RPC batches are not supported")
    if not isinstance(message, dict):
        raise RpcError(INVALID_REQUEST, "a message must be a JSON object")
    has_id = "id" in message
    msg_id = message.get("id")
    if has_id and (msg_id is None or isinstance(msg_id, bool) or not isinstance(msg_id, (str, int))):
        raise RpcError(INVALID_REQUEST, "id must be a string or an integer")
    if "method" not in message and ("result" in message or "error" in message):
        return None  # a response: we never send requests, so nothing waits for it
    method = message.get("method")
    if message.get("jsonrpc") != JSONRPC or not isinstance(method, str):
        raise RpcError(INVALID_REQUEST, "expected jsonrpc \"2.0\" and a method name", msg_id=msg_id)
    params = message.get("params", {})
    if not isinstance(params, dict):
        raise RpcError(INVALID_REQUEST, "params must be an object", msg_id=msg_id)
    return Request(method, params, msg_id, is_notification=not has_id)


def handshake_version(requested):
    """initialize: echo a version we speak, else offer our latest."""
    return requested if requested in HANDSHAKE_VERSIONS else LATEST_HANDSHAKE


def check_modern(version):
    if version not in MODERN_VERSIONS:
        raise RpcError(UNSUPPORTED_VERSION, f"unsupported protocol version {version!r}",
                       {"supported": [*HANDSHAKE_VERSIONS, *MODERN_VERSIONS], "requested": version})


def finish(request, result, server_info, private=True):
    """Stamp a per-request-era result with resultType (and cache hints where they apply)."""
    if request.version is None:
        return result
    result = dict(result, resultType="complete")
    if request.method in CACHEABLE:
        result.update(ttlMs=0, cacheScope="private" if private else "public")
    meta = dict(result.get("_meta") or {})
    meta[SERVER_INFO_KEY] = server_info
    result["_meta"] = meta
    return result


def response(msg_id, result):
    return _line({"jsonrpc": JSONRPC, "id": msg_id, "result": result})


def error(msg_id, code, message, data=None):
    body = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    return _line({"jsonrpc": JSONRPC, "id": msg_id, "error": body})


def _line(message):
    """One line of UTF-8: json escapes every newline inside strings."""
    return (json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8", "replace")
