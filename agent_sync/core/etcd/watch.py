"""A watch over the JSON gateway that survives dropped connections.

POST /v3/watch answers with a chunked stream of JSON lines, one watch
response each. The gateway reads the whole request body before it answers,
so one connection carries one watch and the client cannot ask for progress:
the server's progress notices (progress_notify) say how far it has sent.
After a dropped connection the watch opens again on the next member from
`next_revision`, so no event is lost or repeated. A compacted start revision
raises Compacted: the caller reads the current state and watches again.
"""

import time

from .errors import Compacted, from_reply, is_token_error, refusal, retryable
from .wire import Event, WatchBatch

TYPE_CHECKING = False  # mypy reads it as True; typing itself costs an import
if TYPE_CHECKING:
    from .client import Client, Endpoint
    from .http11 import Connection
    from .wire import Json, Request


class Watch:
    """Events of one key range, in revision order, from `start_revision` (0: from now)."""

    def __init__(self, client: "Client", create_request: "Request", start_revision: int = 0) -> None:
        self.client = client
        self.create_request = create_request
        self.next_revision = start_revision  # 0 until the first answer tells us "now"
        self.last_heard: float | None = None  # monotonic time of the last line from the server
        self.reconnects = 0
        self._conn: "Connection | None" = None
        self._index: int | None = None
        self._lines = bytearray()
        self._refreshed = False  # logged in again during this get()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get(self, timeout: float) -> WatchBatch | None:
        """The next WatchBatch, or None when nothing arrived within `timeout` seconds.

        Raises Unreachable or Timeout when no member could be watched for the
        whole `timeout`, and Compacted when the events we need are gone.
        """
        import json

        deadline = time.monotonic() + timeout
        self._refreshed = False
        while True:
            if self._conn is None:
                self._open(deadline, timeout)
            try:
                line = self._next_line(deadline)
            except TimeoutError:
                return None
            except OSError:  # the member went away mid-stream: resume elsewhere, from next_revision
                self._drop()
                continue
            self.last_heard = time.monotonic()
            batch = self._handle(json.loads(line))
            if batch is not None:
                return batch

    def _drop(self) -> None:
        self.close()
        self.reconnects += 1
        assert self._index is not None  # only an opened watch drops
        self.client.prefer_after(self._index)  # the next attempt starts at another member

    def _open(self, deadline: float, bound: float) -> None:
        """Connect to the first member that accepts the watch (a short call's failover rules)."""
        import json

        request = dict(self.create_request)
        if self.next_revision:
            request["start_revision"] = str(self.next_revision)
        body = json.dumps({"create_request": request}, separators=(",", ":")).encode("utf-8")
        failures: "dict[Endpoint, str]" = {}
        reached = False
        while True:
            for index in self.client.order():
                if time.monotonic() >= deadline:
                    raise self.client.gave_up(failures, reached, bound)
                self.client.ensure_token(deadline)
                conn = self.client.connection(index)
                conn.close()  # a watch owns its socket: never share it with short calls
                try:
                    conn.send("/v3/watch", body, self.client.headers(), self.client.attempt_deadline(deadline))
                    status, head = conn.read_head(self.client.attempt_deadline(deadline))
                    if status != 200:
                        data = conn.read_body(head, self.client.attempt_deadline(deadline))
                        code, message = from_reply(status, data)
                        conn.close()
                        if retryable(status, code, message):
                            failures[self.client.endpoints[index]] = message
                            reached = True
                            continue
                        raise refusal(conn.host_header, status, code, message)
                except OSError as exc:
                    reached = reached or conn.sock is not None
                    failures[self.client.endpoints[index]] = self.client.note_failure(exc, conn)
                    conn.close()
                    continue
                # The watch takes this connection over; short calls get a fresh one.
                self.client.release_connection(index)
                self._conn, self._index = conn, index
                self._lines.clear()
                return
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _next_line(self, deadline: float) -> bytes:
        while True:
            end = self._lines.find(b"\n")
            if end >= 0:
                line = bytes(self._lines[:end])
                del self._lines[: end + 1]
                if line.strip():
                    return line
                continue
            from .http11 import ConnectionLost

            if self._conn is None:
                raise ConnectionLost("the watch is not connected")
            chunk = self._conn.next_chunk(deadline)
            if not chunk:
                raise ConnectionLost("the watch stream ended")
            self._lines += chunk

    def _handle(self, message: "Json") -> WatchBatch | None:
        """A WatchBatch for events or progress, None for bookkeeping answers."""
        if "error" in message:
            raw = message["error"]
            error: "Json" = raw if isinstance(raw, dict) else {"message": str(raw)}
            code, text = error.get("grpc_code"), str(error.get("message", ""))
            if retryable(0, code, text):
                self._drop()
                return None
            raise refusal(self._conn.host_header if self._conn else "?", 200, code, text)
        result = message.get("result", {})
        revision = int(result.get("header", {}).get("revision", 0))
        if result.get("canceled"):
            compacted = int(result.get("compact_revision", 0))
            reason = str(result.get("cancel_reason") or "no reason given")
            where = self._conn.host_header if self._conn else "?"
            self.close()
            if compacted:
                raise Compacted(f"etcd: watch from revision {self.next_revision} is compacted "
                                f"(oldest kept: {compacted})", compacted)
            if self.client.user and is_token_error(None, reason) and not self._refreshed:
                self.client.forget_token()  # log in again, then reopen
                self._refreshed = True
                return None
            raise refusal(where, 200, None, f"watch canceled: {reason}")
        if result.get("created"):
            if not self.next_revision:
                self.next_revision = revision + 1
            return None
        events = [Event(e) for e in result.get("events", ())]
        if events:
            self.next_revision = events[-1].kv.mod_revision + 1
        elif revision:
            self.next_revision = max(self.next_revision, revision + 1)
        return WatchBatch(events, revision)
