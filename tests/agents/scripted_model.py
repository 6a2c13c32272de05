"""The part every fake model server shares: a loopback HTTP server that answers from a script.

A script is a list of steps, one per model request. A step is a `Reply` (text
and/or tool calls), or a callable that receives the parsed request body and
returns a Reply; a callable can also act between two model requests (run a
command, change a file) before it answers. When the script runs out, the model
says "done" with no tool call, which ends the agent's turn.

Every request body is kept in `server.requests`, so tests assert on what
reached the model.
"""

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Call:
    """One tool call the model makes: a tool name and its arguments."""

    _ids = itertools.count(1)

    def __init__(self, name, arguments=None, freeform=None):
        self.name = name
        self.arguments = arguments or {}
        self.freeform = freeform  # raw text input, for Codex's freeform (custom) tools
        self.id = f"call_{next(self._ids)}"


class Reply:
    """What the model answers to one request."""

    def __init__(self, *calls, text=None):
        self.calls = list(calls)
        self.text = text


DONE = Reply(text="done")


class ScriptedServer(ThreadingHTTPServer):
    """Bind 127.0.0.1 on a free port; subclasses turn a Reply into the wire format."""

    daemon_threads = True

    def __init__(self, steps=()):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.steps = list(steps)
        self.requests = []  # (path, parsed body) of every model request, in order
        self.errors = []
        self._lock = threading.Lock()
        self._thread = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()

    def next_reply(self, path, body):
        with self._lock:
            self.requests.append((path, body))
            step = self.steps.pop(0) if self.steps else DONE
        if callable(step):
            step = step(body) or DONE
        return step

    # Subclasses: is_model_request(path), answer(handler, path, body, reply), other(handler, method, path)
    def is_model_request(self, method, path):
        raise NotImplementedError

    def answer(self, handler, path, body, reply):
        raise NotImplementedError

    def other(self, handler, method, path, body):
        send_json(handler, 404, {"error": {"message": f"no such endpoint {method} {path}"}})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return {"_raw": raw.decode("utf-8", "replace")}

    def _serve(self, method):
        server = self.server
        body = self._body() if method == "POST" else {}
        try:
            if server.is_model_request(method, self.path):
                server.answer(self, self.path, body, server.next_reply(self.path, body))
            else:
                server.other(self, method, self.path, body)
        except Exception as exc:  # noqa: BLE001 - keep the failure for the test to report
            server.errors.append(f"{method} {self.path}: {type(exc).__name__}: {exc}")
            raise

    def do_POST(self):
        self._serve("POST")

    def do_GET(self):
        self._serve("GET")


def send_json(handler, status, value):
    data = json.dumps(value).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def send_sse(handler, events, named=True):
    """Send (event name, data) pairs as one complete text/event-stream response."""
    chunks = []
    for name, data in events:
        head = f"event: {name}\n" if named else ""
        chunks.append(f"{head}data: {json.dumps(data)}\n\n".encode())
    payload = b"".join(chunks)
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("cache-control", "no-cache")
    handler.send_header("content-length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)
