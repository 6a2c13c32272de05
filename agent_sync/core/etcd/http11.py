"""A small HTTP/1.1 client over one socket, for the etcd JSON gateway.

http.client costs about 35 ms to import (it pulls in the email package and
ssl). The gateway needs much less: POST with a JSON body, replies framed by
Content-Length or chunked encoding, and a chunk stream for watch. ssl is
imported by the caller, and only for TLS. Reads parse from a buffer and
consume only complete items, so a read that times out loses nothing and a
stream can be read on afterwards.
"""

import socket
import time

RECV_SIZE = 65536
MAX_HEAD = 65536  # a reply head larger than this is not from etcd

TYPE_CHECKING = False  # mypy reads it as True; typing itself costs an import
if TYPE_CHECKING:
    import ssl


class ConnectionLost(OSError):
    """The peer closed the connection before a complete reply."""


class ProtocolError(OSError):
    """The peer's reply is not HTTP/1.1 as expected."""


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


class Connection:
    """One keep-alive connection to host:port, opened on first use."""

    def __init__(self, host: str, port: int, ssl_context: "ssl.SSLContext | None" = None) -> None:
        self.host, self.port, self.ssl_context = host, port, ssl_context
        self.host_header = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.sock: socket.socket | None = None
        self.served = 0  # replies read on the current socket: a failure on a reused one may be a stale keep-alive
        self._buf = bytearray()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.served = 0
        self._buf.clear()

    def _connect(self, deadline: float) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=_remaining(deadline))
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl_context is not None:
                sock.settimeout(_remaining(deadline))
                sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock, self.served = sock, 0
        self._buf.clear()

    def send(self, path: str, body: bytes, headers: dict[str, str], deadline: float) -> None:
        """Send one POST. Opens the socket if needed."""
        if self.sock is None:
            self._connect(deadline)
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host_header}", "Content-Type: application/json",
                 f"Content-Length: {len(body)}"]
        for name, value in headers.items():
            if "\r" in value or "\n" in value:
                raise ValueError(f"header {name} holds a line break")
            lines.append(f"{name}: {value}")
        sock = self.sock
        assert sock is not None  # _connect set it or raised
        sock.settimeout(_remaining(deadline))
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def request(self, path: str, body: bytes, headers: dict[str, str],
                deadline: float) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of one POST, on the kept-alive socket."""
        self.send(path, body, headers, deadline)
        status, head = self.read_head(deadline)
        data = self.read_body(head, deadline)
        self.served += 1
        if head.get("connection", "").lower() == "close":
            self.close()
        return status, head, data

    def _fill(self, deadline: float) -> None:
        sock = self.sock
        if sock is None:
            raise ConnectionLost("the connection is closed")
        sock.settimeout(_remaining(deadline))
        data = sock.recv(RECV_SIZE)
        if not data:
            raise ConnectionLost(f"{self.host_header} closed the connection")
        self._buf += data

    def read_head(self, deadline: float) -> tuple[int, dict[str, str]]:
        """(status, {lower-case name: value}) of the next reply."""
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self._buf) > MAX_HEAD:
                raise ProtocolError(f"{self.host_header}: reply head too large")
            self._fill(deadline)
        text = bytes(self._buf[:end]).decode("latin-1")
        del self._buf[: end + 4]
        status_line, *fields = text.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"{self.host_header}: not an HTTP reply: {status_line[:80]!r}")
        head = {}
        for field in fields:
            name, _, value = field.partition(":")
            head[name.strip().lower()] = value.strip()
        return int(parts[1]), head

    def read_body(self, head: dict[str, str], deadline: float) -> bytes:
        """The whole body of a reply whose head was just read."""
        if "chunked" in head.get("transfer-encoding", "").lower():
            parts: list[bytes] = []
            while True:
                chunk = self.next_chunk(deadline)
                if not chunk:
                    return b"".join(parts)
                parts.append(chunk)
        if "content-length" in head:
            size = int(head["content-length"])
            while len(self._buf) < size:
                self._fill(deadline)
            data = bytes(self._buf[:size])
            del self._buf[:size]
            return data
        while True:  # framed by the end of the connection
            try:
                self._fill(deadline)
            except ConnectionLost:
                data = bytes(self._buf)
                self.close()
                return data

    def next_chunk(self, deadline: float) -> bytes:
        """The next chunk of a chunked body, or b"" at its end (trailers consumed)."""
        while True:
            line_end = self._buf.find(b"\r\n")
            if line_end >= 0:
                size_text = bytes(self._buf[:line_end]).split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise ProtocolError(f"{self.host_header}: bad chunk size {size_text[:20]!r}") from None
                if size == 0:  # the last chunk, then trailer lines up to an empty line
                    end = self._buf.find(b"\r\n\r\n", line_end)
                    if end >= 0:
                        del self._buf[: end + 4]
                        return b""
                elif len(self._buf) >= line_end + 2 + size + 2:
                    start = line_end + 2
                    data = bytes(self._buf[start: start + size])
                    del self._buf[: start + size + 2]
                    return data
            elif len(self._buf) > MAX_HEAD:
                raise ProtocolError(f"{self.host_header}: chunk header too large")
            self._fill(deadline)
