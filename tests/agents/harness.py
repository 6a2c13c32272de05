"""The real-agent tier's harness: a scripted model server, a sandbox, a runner.

A test writes a script of model turns (`Reply`), each a few tool calls
(`Call`) or a closing text, starts the agent CLI against a `ModelServer`
subclass that speaks that CLI's wire protocol, and then asserts on what
reached the model (`result_of(call)`, `saw(text)`) and on the files on disk.

Everything runs inside a `Sandbox`: a throwaway HOME and XDG folders, an
environment with nothing inherited but PATH and the locale, every proxy
variable pointed at a loopback `Blackhole` (so nothing leaves the machine:
attempts are recorded and refused), and a git repository with agent-sync
installed from the built archive exactly as a user would install it.
"""

import http.server
import json
import os
import signal
import socketserver
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"
DEFAULT_TIMEOUT = 90


# ---------------------------------------------------------------------------
# The script

class Call:
    """One tool call the scripted model makes. `id` is given when the server sends it."""

    def __init__(self, name, args):
        self.name = name
        self.args = args
        self.id = None

    def __repr__(self):
        return f"Call({self.name!r}, {self.args!r}, id={self.id!r})"


class Reply:
    """One scripted model turn: tool calls, or a text when there are none.

    `before(request)` runs when the request this reply answers arrives, before
    the answer goes out: a test can act between two model requests (send a
    message while the model is mid-chain). `match(request)` picks which
    conversation this reply belongs to (default: the first that asks).
    `extra` holds protocol knobs a server understands (e.g. reported usage).
    """

    def __init__(self, *calls, text=None, before=None, match=None, **extra):
        self.calls = list(calls)
        self.extra = extra
        self.text = text if text is not None or calls else "Done."
        self.before = before
        self.match = match
        self.request = None  # the request this reply answered

    def __repr__(self):
        return f"Reply({self.calls!r}, text={self.text!r})"


class Request:
    """One HTTP request the model server received."""

    def __init__(self, method, path, headers, raw):
        self.method = method
        self.path = path
        self.headers = headers
        self.raw = raw
        self.at = time.time()
        try:
            self.body = json.loads(raw) if raw else None
        except ValueError:
            self.body = None

    def __repr__(self):
        return f"Request({self.method} {self.path}, {len(self.raw)} bytes)"


# ---------------------------------------------------------------------------
# HTTP servers on loopback

class _Threaded(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args):
        pass

    def _any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, dict(self.headers.items()), raw)
        self.server.owner._record(request)
        try:
            status, headers, body = self.server.owner._answer(request)
        except Exception as exc:  # noqa: BLE001 - a broken script is reported by check(), not by a hang
            self.server.owner.errors.append(f"{request!r}: {type(exc).__name__}: {exc}")
            status, headers, body = 500, {"Content-Type": "application/json"}, b'{"error": "script error"}'
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:  # an iterable of chunks, streamed as they come (SSE)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in body:
                data = chunk.encode() if isinstance(chunk, str) else chunk
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_CONNECT = do_OPTIONS = _any


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 that records every request it receives."""

    def __init__(self):
        self.requests = []
        self.errors = []
        self._lock = threading.Lock()
        self._httpd = None
        self._thread = None

    def start(self):
        """Start serving (again is a no-op, so a test may learn the URL before the agent runs)."""
        if self._httpd is not None:
            return self
        self._httpd = _Threaded((LOOPBACK, 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc):
        self.stop()

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def url(self):
        return f"http://{LOOPBACK}:{self.port}"

    def _record(self, request):
        with self._lock:
            self.requests.append(request)

    def _answer(self, request):
        raise NotImplementedError


class Blackhole(LoopbackServer):
    """What every proxy variable points at: records each attempt to leave loopback and refuses it."""

    def _answer(self, request):
        return 403, {"Content-Type": "text/plain", "Connection": "close"}, b"no traffic beyond loopback in tests\n"

    def targets(self):
        return [f"{r.method} {r.path}" for r in self.requests]


class ModelServer(LoopbackServer):
    """A scripted model. Subclasses speak one wire protocol; this class runs the script.

    Subclasses implement:
      - answer(request): (status, headers, body) for requests that are not turns;
        return None to treat the request as a conversation turn;
      - render(reply, request): the wire answer for one Reply (ids go on its Calls);
      - tool_results(request): {call id: result text} in the request's history;
      - texts(request): every piece of text the model is shown in that request.
    """

    def __init__(self, *replies, final_text="Done."):
        super().__init__()
        self.script = list(replies)
        self.final_text = final_text
        self.turns = []  # requests that were conversation turns, in arrival order
        self._ids = 0

    # -- the script
    def add(self, *replies):
        with self._lock:
            self.script.extend(replies)

    def new_id(self, prefix):
        with self._lock:
            self._ids += 1
            return f"{prefix}{self._ids:04d}"

    def _next(self, request):
        with self._lock:
            self.turns.append(request)
            for reply in self.script:
                if reply.request is None and (reply.match is None or reply.match(request)):
                    reply.request = request
                    return reply
        return Reply(text=self.final_text)

    def _answer(self, request):
        answer = self.answer(request)
        if answer is not None:
            return answer
        reply = self._next(request)
        if reply.before:
            reply.before(request)
        return self.render(reply, request)

    # -- what the model saw
    def result_of(self, call):
        """The text of the tool result the agent returned for `call` (AssertionError if it never did)."""
        assert call.id, f"{call!r} was never sent: the agent stopped asking before that turn"
        for request in self.turns:
            found = self.tool_results(request).get(call.id)
            if found is not None:
                return found
        raise AssertionError(f"no tool result for {call!r} reached the model")

    def saw(self, needle):
        """True when any conversation turn showed the model text containing `needle`."""
        return any(needle in text for request in self.turns for text in self.texts(request))

    def seen_texts(self):
        return [text for request in self.turns for text in self.texts(request)]

    def unanswered(self):
        """Scripted replies no request consumed."""
        return [reply for reply in self.script if reply.request is None]

    def dump(self, path):
        """Write every request body to `path` (for reading what the agent really sent)."""
        Path(path).write_text(json.dumps([{"path": r.path, "body": r.body} for r in self.requests], indent=1))

    def check(self):
        dump = os.environ.get("AGENT_TIER_DUMP")
        if dump:
            self.dump(Path(dump) / f"{self.__class__.__name__}-{os.getpid()}-{time.time_ns()}.json")
        assert not self.errors, "model server errors:\n" + "\n".join(self.errors)

    def summary(self, limit=4000):
        """A short account of the conversation, for failure messages."""
        lines = []
        for i, request in enumerate(self.turns):
            lines.append(f"-- turn {i}: {request.path}")
            for text in self.texts(request)[-4:]:
                lines.append("   " + text[:400].replace("\n", "\\n"))
        text = "\n".join(lines)
        return text[-limit:]

    # -- for subclasses
    def answer(self, request):
        return None

    def render(self, reply, request):
        raise NotImplementedError

    def tool_results(self, request):
        raise NotImplementedError

    def texts(self, request):
        raise NotImplementedError


def wait_until(condition, timeout=30.0, interval=0.05):
    """Poll `condition()` until it is true; AssertionError after `timeout` seconds.

    For a Reply's `before`: hold one conversation (a subagent) at a model
    request until another (its parent) has reached a given point.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {getattr(condition, '__name__', condition)}")
        time.sleep(interval)


def sse(events):
    """Server-sent events: [(event name or None, data object)] -> text chunks."""
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        payload = data if isinstance(data, str) else json.dumps(data)
        yield f"{head}data: {payload}\n\n"


SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
JSON_HEADERS = {"Content-Type": "application/json"}


def json_answer(value, status=200):
    return status, dict(JSON_HEADERS), json.dumps(value)


# ---------------------------------------------------------------------------
# Running processes

class Result:
    """One finished process."""

    def __init__(self, argv, code, out, err, seconds):
        self.argv = argv
        self.code = code
        self.out = out.decode("utf-8", "replace") if isinstance(out, bytes) else out
        self.err = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
        self.seconds = seconds

    def __repr__(self):
        return (f"Result(exit {self.code}, {self.seconds:.1f}s, argv={self.argv[:3]!r}...,\n"
                f"  stdout={self.out[-1500:]!r},\n  stderr={self.err[-1500:]!r})")


def run(argv, env, cwd, timeout=DEFAULT_TIMEOUT, input=None):
    """Run argv in its own process group; on timeout the whole group is killed and the test fails."""
    start = time.monotonic()
    argv = [str(a) for a in argv]
    try:
        proc = subprocess.Popen(argv, cwd=str(cwd), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise AssertionError(f"cannot start {argv[0]}: {exc}") from None
    try:
        out, err = proc.communicate(input.encode() if isinstance(input, str) else input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        result = Result(argv, None, out, err, time.monotonic() - start)
        raise AssertionError(f"timed out after {timeout}s: {result!r}") from None
    finally:
        _kill_group(proc)  # children it left behind (MCP servers, shells) go with it
    return Result(argv, proc.returncode, out, err, time.monotonic() - start)


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


# ---------------------------------------------------------------------------
# The sandbox

# Only these are inherited; everything else (keys, tokens, CI variables, proxies) stays out.
INHERITED = ("PATH", "LANG", "TERM")
QUIET = {  # generic telemetry / update switches most CLIs honour
    "DO_NOT_TRACK": "1",
    "NO_UPDATE_NOTIFIER": "1",
    "npm_config_update_notifier": "false",
    "CI": "1",
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
}


class Sandbox:
    """A throwaway HOME, XDG folders and git repository for one agent run.

    `env()` is the agent's whole environment. `cli()` runs the archive as a
    user or another agent would. Files under `repo` are written by `write()`
    and committed by `commit()`, so a test starts from a clean checkout.
    """

    def __init__(self, base, pyz, blackhole):
        self.base = Path(base)
        self.pyz = Path(pyz)
        self.blackhole = blackhole
        self.home = self.base / "home"
        self.repo = self.base / "repo"
        # TMPDIR is short: CLIs put Unix sockets there, and a socket path is limited to ~100 bytes
        self.tmp = Path(tempfile.mkdtemp(prefix="tier-"))
        self.bin = self.base / "bin"
        for path in (self.home, self.repo, self.tmp, self.bin, *self.xdg().values()):
            Path(path).mkdir(parents=True, exist_ok=True)
        self.python = self._link_python()
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "tier@example.invalid")
        self.git("config", "user.name", "agent tier")
        self.git("config", "commit.gpgsign", "false")

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def xdg(self):
        return {"XDG_CONFIG_HOME": self.home / ".config", "XDG_CACHE_HOME": self.home / ".cache",
                "XDG_DATA_HOME": self.home / ".local" / "share", "XDG_STATE_HOME": self.home / ".local" / "state"}

    def _link_python(self):
        """python3 on the agent's PATH is the interpreter running the tests (a user's Python 3.10+)."""
        real = os.path.realpath(sys.executable)
        link = self.bin / "python3"
        if not link.exists():
            link.symlink_to(real)
        return link

    def env(self, **extra):
        env = {k: os.environ[k] for k in INHERITED if k in os.environ}
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", os.defpath)])
        env.update(QUIET)
        env.update({k: str(v) for k, v in self.xdg().items()})
        env.update(HOME=str(self.home), TMPDIR=str(self.tmp), LC_ALL="C.UTF-8", LANG="C.UTF-8", USER="tier",
                   LOGNAME="tier", SHELL="/bin/bash")
        hole = self.blackhole.url
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            env[name] = hole
        env["NO_PROXY"] = env["no_proxy"] = f"{LOOPBACK},localhost"
        env.update({k: str(v) for k, v in extra.items() if v is not None})
        return env

    # -- the repository
    def git(self, *args, check=True):
        proc = subprocess.run(["git", *args], cwd=self.repo, env=self.env(), capture_output=True, text=True)
        if check and proc.returncode:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout

    def path(self, rel):
        return self.repo / rel

    def write(self, rel, text):
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def read(self, rel):
        return self.path(rel).read_text(encoding="utf-8")

    def commit(self, message="fixture"):
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, "--allow-empty")

    # -- agent-sync, as a user runs it
    def install(self, *agents, expect=0):
        argv = [self.python, self.pyz, "install", "--repo", self.repo]
        for name in agents:
            argv += ["--agent", name]
        result = run(argv, self.env(), self.repo, timeout=60)
        assert result.code == expect, f"install exited {result.code}, expected {expect}: {result!r}"
        return result

    def cli(self, *args, agent=None, check=0, cwd=None, env=None):
        """`python3 .claude/skills/agent-sync/agent-sync.pyz ARGS` in the repo; `agent` sets AGENT_SYNC_ID."""
        installed = self.repo / ".claude" / "skills" / "agent-sync" / "agent-sync.pyz"
        pyz = installed if installed.exists() else self.pyz
        extra = dict(env or {})
        if agent is not None:
            extra["AGENT_SYNC_ID"] = agent
        result = run([self.python, pyz, *args], self.env(**extra), cwd or self.repo, timeout=60)
        if check is not None:
            assert result.code == check, f"agent-sync {' '.join(map(str, args))} exited {result.code}: {result!r}"
        return result

    def json(self, *args, agent=None):
        return json.loads(self.cli(*args, "--json", agent=agent).out)

    def activity(self):
        """The activity feed, oldest first, as `status --json` shows it."""
        rows = self.json("status", agent="tier-observer")["activity"]
        return sorted(rows, key=lambda row: row.get("id", 0))

    def locks(self):
        return self.json("locks", agent="tier-observer")["locks"]

    def run(self, argv, env, cwd=None, timeout=DEFAULT_TIMEOUT, input=None):
        return run(argv, env, cwd or self.repo, timeout=timeout, input=input)


def cli_binary(name):
    """The pinned CLI's executable, installed from npm when missing; a CLI that cannot be had fails the test."""
    import clis
    import pytest

    try:
        path = clis.binary(name)
    except Exception as exc:  # noqa: BLE001 - reported as a failure, never as a skip
        pytest.fail(f"cannot install the pinned {name} CLI: {type(exc).__name__}: {exc}", pytrace=False)
    if not path.exists():
        pytest.fail(f"the pinned {name} CLI is not at {path}", pytrace=False)
    return path


def build_pyz(folder):
    """The archive built from the sources under test, into `folder` (never into dist/)."""
    root = Path(__file__).resolve().parents[2]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    import build

    target = Path(folder) / "agent-sync.pyz"
    build.write(target, build.archive_bytes())
    return target


def recorder_command(python, folder, label):
    """A hook command that saves its stdin (the agent's payload) as folder/<time>-<pid>-<label>.json."""
    code = ("import os,sys,time;d,l=sys.argv[1:3];"
            "open(os.path.join(d,f'{time.time_ns()}-{os.getpid()}-{l}.json'),'wb').write(sys.stdin.buffer.read())")
    return f"'{python}' -c \"{code}\" '{folder}' '{label}'"


def recorded(folder):
    """[(label, payload)] that recorder_command saved, in the order they arrived."""
    out = []
    for path in sorted(Path(folder).glob("*.json"), key=lambda p: int(p.name.split("-", 1)[0])):
        label = path.stem.split("-", 2)[2]
        try:
            out.append((label, json.loads(path.read_text(encoding="utf-8"))))
        except ValueError:
            out.append((label, path.read_text(encoding="utf-8", errors="replace")))
    return out
