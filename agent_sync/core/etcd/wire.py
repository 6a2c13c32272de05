"""The JSON gateway's wire forms: base64 keys and values, numbers as strings.

Request builders return plain dicts, ready for a call or a transaction;
result classes decode replies (nested transaction results included).
"""

SORT_TARGETS = {"key": "KEY", "version": "VERSION", "create": "CREATE", "mod": "MOD", "value": "VALUE"}
COMPARE_TARGETS = {"value": ("VALUE", "value"), "version": ("VERSION", "version"),
                   "create": ("CREATE", "create_revision"), "mod": ("MOD", "mod_revision"),
                   "lease": ("LEASE", "lease")}
COMPARE_OPS = {"=": "EQUAL", "==": "EQUAL", "!=": "NOT_EQUAL", "<": "LESS", ">": "GREATER"}

TYPE_CHECKING = False  # mypy reads it as True; typing itself costs an import
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    Json = dict[str, Any]  # a decoded reply (or part of one)
    Request = dict[str, object]  # a request body, or one op or compare of a transaction
    Data = str | bytes  # a key or value: text travels as UTF-8


# ---------------------------------------------------------------------------
# Encoding


def _bytes(data: "Data") -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def b64(data: "Data") -> str:
    import binascii  # an extension module: 2 ms to load, so only when a request is built

    return binascii.b2a_base64(_bytes(data), newline=False).decode("ascii")


def _unb64(text: str | None) -> bytes:
    import binascii

    return binascii.a2b_base64(text) if text else b""


def prefix_end(prefix: "Data") -> bytes:
    """The range_end that selects every key starting with `prefix`."""
    end = bytearray(_bytes(prefix))
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\0"  # with an empty (or all-0xff) prefix: every key


def end_of(key: "Data", range_end: "Data | None", prefix: bool) -> bytes | None:
    if prefix:
        return prefix_end(key)
    return None if range_end is None else _bytes(range_end)


# ---------------------------------------------------------------------------
# Results


class KeyValue:
    __slots__ = ("key", "value", "create_revision", "mod_revision", "version", "lease")

    def __init__(self, raw: "Json") -> None:
        self.key = _unb64(raw.get("key"))
        self.value = _unb64(raw.get("value"))
        self.create_revision = int(raw.get("create_revision", 0))
        self.mod_revision = int(raw.get("mod_revision", 0))
        self.version = int(raw.get("version", 0))
        self.lease = int(raw.get("lease", 0))

    def __repr__(self) -> str:
        return f"KeyValue({self.key!r}, {self.value!r}, mod={self.mod_revision})"


def _kv(raw: "Json | None") -> KeyValue | None:
    return None if raw is None else KeyValue(raw)


def revision_of(reply: "Json") -> int:
    return int(reply.get("header", {}).get("revision", 0))


class RangeResult:
    __slots__ = ("kvs", "count", "more", "revision")

    def __init__(self, raw: "Json") -> None:
        self.kvs = [KeyValue(kv) for kv in raw.get("kvs", ())]
        self.count = int(raw.get("count", 0))
        self.more = bool(raw.get("more", False))
        self.revision = revision_of(raw)


class PutResult:
    __slots__ = ("revision", "prev_kv")

    def __init__(self, raw: "Json") -> None:
        self.revision = revision_of(raw)
        self.prev_kv = _kv(raw.get("prev_kv"))


class DeleteResult:
    __slots__ = ("deleted", "prev_kvs", "revision")

    def __init__(self, raw: "Json") -> None:
        self.deleted = int(raw.get("deleted", 0))
        self.prev_kvs = [KeyValue(kv) for kv in raw.get("prev_kvs", ())]
        self.revision = revision_of(raw)


class TxnResult:
    """`responses` hold RangeResult, PutResult, DeleteResult or TxnResult, in op order.

    Nested results carry no revision of their own (the gateway leaves their
    header empty): the outer `revision` is the one that counts.
    """

    __slots__ = ("succeeded", "responses", "revision")

    def __init__(self, raw: "Json") -> None:
        self.succeeded = bool(raw.get("succeeded", False))
        self.responses = [_op_result(r) for r in raw.get("responses", ())]
        self.revision = revision_of(raw)


_RESULTS: "dict[str, type[RangeResult | PutResult | DeleteResult | TxnResult]]" = {
    "response_range": RangeResult, "response_put": PutResult,
    "response_delete_range": DeleteResult, "response_txn": TxnResult}


def _op_result(raw: "Json") -> "RangeResult | PutResult | DeleteResult | TxnResult | None":
    for name, kind in _RESULTS.items():
        if name in raw:
            return kind(raw[name])
    return None


class Lease:
    __slots__ = ("id", "ttl", "granted_ttl", "keys")

    def __init__(self, raw: "Json") -> None:
        self.id = int(raw.get("ID", 0))
        self.ttl = int(raw.get("TTL", 0))
        self.granted_ttl = int(raw.get("grantedTTL", self.ttl))
        self.keys = [_unb64(k) for k in raw.get("keys", ())]


class Event:
    __slots__ = ("type", "kv", "prev_kv")

    def __init__(self, raw: "Json") -> None:
        self.type = raw.get("type", "PUT")
        self.kv = KeyValue(raw.get("kv", {}))
        self.prev_kv = _kv(raw.get("prev_kv"))

    def __repr__(self) -> str:
        return f"Event({self.type}, {self.kv.key!r}, rev={self.kv.mod_revision})"


class WatchBatch:
    """One watch response: events in revision order, or none (a progress notice).

    `revision` is the store revision when it was sent: every change of the
    watched range up to it has been delivered.
    """

    __slots__ = ("events", "revision")

    def __init__(self, events: list[Event], revision: int) -> None:
        self.events, self.revision = events, revision


class Member:
    __slots__ = ("id", "name", "peer_urls", "client_urls", "is_learner")

    def __init__(self, raw: "Json") -> None:
        self.id = int(raw.get("ID", 0))
        self.name = raw.get("name", "")
        self.peer_urls = list(raw.get("peerURLs", ()))
        self.client_urls = list(raw.get("clientURLs", ()))
        self.is_learner = bool(raw.get("isLearner", False))


class Status:
    __slots__ = ("endpoint", "member_id", "leader", "raft_term", "raft_index", "revision", "db_size",
                 "db_size_in_use", "version", "errors")

    def __init__(self, endpoint: tuple[str, int], raw: "Json") -> None:
        header = raw.get("header", {})
        self.endpoint = endpoint
        self.member_id = int(header.get("member_id", 0))
        self.leader = int(raw.get("leader", 0))
        self.raft_term = int(raw.get("raftTerm", header.get("raft_term", 0)))
        self.raft_index = int(raw.get("raftIndex", 0))
        self.revision = int(header.get("revision", 0))
        self.db_size = int(raw.get("dbSize", 0))
        self.db_size_in_use = int(raw.get("dbSizeInUse", 0))
        self.version = raw.get("version", "")
        self.errors = list(raw.get("errors", ()))

    @property
    def is_leader(self) -> bool:
        return self.leader != 0 and self.leader == self.member_id


# ---------------------------------------------------------------------------
# Requests (plain dicts in the gateway's JSON form, for calls and transactions)


def range_request(key: "Data", range_end: "Data | None" = None, prefix: bool = False, revision: int = 0,
                  limit: int = 0, keys_only: bool = False, count_only: bool = False,
                  sort: tuple[str, str] | None = None, serializable: bool = False, min_mod_revision: int = 0,
                  max_mod_revision: int = 0, min_create_revision: int = 0,
                  max_create_revision: int = 0) -> "Request":
    """`sort` is (target, order): target key/version/create/mod/value, order ascend/descend."""
    req: "Request" = {"key": b64(key)}
    end = end_of(key, range_end, prefix)
    if end is not None:
        req["range_end"] = b64(end)
    for name, number in (("revision", revision), ("limit", limit), ("min_mod_revision", min_mod_revision),
                         ("max_mod_revision", max_mod_revision), ("min_create_revision", min_create_revision),
                         ("max_create_revision", max_create_revision)):
        if number:
            req[name] = str(int(number))
    for name, flag in (("keys_only", keys_only), ("count_only", count_only), ("serializable", serializable)):
        if flag:
            req[name] = True
    if sort is not None:
        target, order = sort
        req["sort_target"] = SORT_TARGETS[target]
        req["sort_order"] = {"ascend": "ASCEND", "descend": "DESCEND"}[order]
    return req


def put_request(key: "Data", value: "Data", lease: int = 0, prev_kv: bool = False) -> "Request":
    req: "Request" = {"key": b64(key), "value": b64(value)}
    if lease:
        req["lease"] = str(int(lease))
    if prev_kv:
        req["prev_kv"] = True
    return req


def delete_request(key: "Data", range_end: "Data | None" = None, prefix: bool = False,
                   prev_kv: bool = False) -> "Request":
    req: "Request" = {"key": b64(key)}
    end = end_of(key, range_end, prefix)
    if end is not None:
        req["range_end"] = b64(end)
    if prev_kv:
        req["prev_kv"] = True
    return req


def compare(key: "Data", target: str, op: str, value: "Data | int", range_end: "Data | None" = None,
            prefix: bool = False) -> "Request":
    """One txn compare: `target` is value/version/create/mod/lease, `op` one of = != < >.

    With `prefix` (or `range_end`) it must hold for every key in the range;
    an empty range compares as one absent key (version, revisions and lease 0).
    """
    name, field = COMPARE_TARGETS[target]
    req: "Request" = {"key": b64(key), "target": name, "result": COMPARE_OPS[op],
                      field: b64(value) if target == "value" else str(int(value))}  # type: ignore[arg-type]
    end = end_of(key, range_end, prefix)
    if end is not None:
        req["range_end"] = b64(end)
    return req


def op_range(key: "Data", **options: "Any") -> "Request":
    return {"request_range": range_request(key, **options)}


def op_put(key: "Data", value: "Data", lease: int = 0, prev_kv: bool = False) -> "Request":
    return {"request_put": put_request(key, value, lease, prev_kv)}


def op_delete(key: "Data", range_end: "Data | None" = None, prefix: bool = False,
              prev_kv: bool = False) -> "Request":
    return {"request_delete_range": delete_request(key, range_end, prefix, prev_kv)}


def op_txn(compares: "Iterable[Request]", success: "Iterable[Request]" = (),
           failure: "Iterable[Request]" = ()) -> "Request":
    return {"request_txn": {"compare": list(compares), "success": list(success), "failure": list(failure)}}


def watch_request(key: "Data", range_end: "Data | None" = None, prefix: bool = False, prev_kv: bool = False,
                  progress_notify: bool = True) -> "Request":
    """A watch's create_request (without its start revision)."""
    req: "Request" = {"key": b64(key)}
    end = end_of(key, range_end, prefix)
    if end is not None:
        req["range_end"] = b64(end)
    if prev_kv:
        req["prev_kv"] = True
    if progress_notify:
        req["progress_notify"] = True
    return req
