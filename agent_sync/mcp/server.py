"""`agent-sync mcp`: the coordination state as an MCP server on stdin/stdout.

One request at a time, each with a fresh Context (its own clock and
database connection). stdout carries protocol messages only; anything worth
logging goes to stderr. The server returns at end of input.

Identity. Over stdio every client starts its own server process, so the
process speaks for one agent: AGENT_SYNC_ID if set, else the session id the
client exports into the server's environment (Claude Code sets
CLAUDE_CODE_SESSION_ID, which its hooks see too, so MCP calls and hook
checks are the same agent), else an id of this client connection: a hash of
the client's name, this process id and its start time. A client whose hooks
know it by another id (Codex, Gemini CLI, Cursor: session start names it)
binds the connection to that id with `register` and `agent_id`.
"""

import os
import sys
import time

from .. import __version__
from ..core import identity, repo, documents
from ..core.errors import AgentSyncError, StorageError, UsageError
from . import protocol, tools
from .protocol import RpcError

SERVER_INFO = {"name": "agent-sync", "version": __version__}
CAPABILITIES = {"tools": {"listChanged": False}, "resources": {"subscribe": False, "listChanged": False}}
INSTRUCTIONS = ("agent-sync coordinates the AI agents working in this repository. Lock a file (lock) before "
                "editing it and unlock it when done; check status for other agents, locks and tasks; read your "
                "inbox when told you have messages. A refused lock names the owner: message them (send) or pick "
                "other work, never work around a lock.")
RESOURCES = {
    "agent-sync://status": ("status", "Agents, tasks, locks, unread count and recent activity (JSON)"),
    "agent-sync://locks": ("locks", "Live locks (JSON)"),
}


class Server:
    """The state one stdio connection needs between requests."""

    def __init__(self, cwd=None, environ=os.environ, log=None):
        self.cwd = cwd or os.getcwd()
        self.environ = environ
        self.log = log or (lambda text: print(f"agent-sync mcp: {text}", file=sys.stderr, flush=True))
        self.started = time.time_ns()
        self.client_name = None
        self.me = None
        self.ctx = None  # kept between requests (see _context)

    # -- the loop --------------------------------------------------------------------------------------

    def serve(self, stdin, stdout):
        """Answer every line of `stdin` (bytes) on `stdout` (bytes) until end of input."""
        try:
            for line in iter(stdin.readline, b""):
                reply = self.handle_line(line)
                if reply:
                    stdout.write(reply)
                    stdout.flush()
        finally:
            self.close()
        return 0

    def close(self):
        if self.ctx is not None:
            ctx, self.ctx = self.ctx, None
            ctx.close()

    def handle_line(self, line):
        """The bytes to send back for one incoming line (None for notifications and responses)."""
        try:
            request = protocol.decode(line)
        except RpcError as exc:
            return protocol.error(exc.msg_id, exc.code, exc.message, exc.data)
        if request is None or request.is_notification:
            return None  # responses, and notifications (initialized, cancelled, …): nothing to answer
        try:
            result = self.dispatch(request)
        except RpcError as exc:
            reply = protocol.error(request.id, exc.code, exc.message, exc.data)
        except Exception as exc:  # noqa: BLE001 - one bad request must not end the session
            self.log(f"internal error in {request.method}: {type(exc).__name__}: {exc}")
            if self.environ.get("AGENT_SYNC_DEBUG"):
                import traceback

                traceback.print_exc(file=sys.stderr)
            reply = protocol.error(request.id, protocol.INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}")
        else:
            reply = protocol.response(request.id, protocol.finish(request, result, SERVER_INFO,
                                                                  private=request.method.startswith("resources/")))
        return reply

    def dispatch(self, request):
        if request.version is not None:
            protocol.check_modern(request.version)
        self._note_client(request)
        handler = METHODS.get(request.method)
        if handler is None:
            raise RpcError(protocol.METHOD_NOT_FOUND, f"method not found: {request.method}")
        return handler(self, request.params)

    def _note_client(self, request):
        name = request.client_info.get("name")
        if self.client_name is None and isinstance(name, str) and name:
            self.client_name = name

    # -- methods ---------------------------------------------------------------------------------------

    def initialize(self, params):
        return {"protocolVersion": protocol.handshake_version(params.get("protocolVersion")),
                "capabilities": CAPABILITIES, "serverInfo": SERVER_INFO, "instructions": INSTRUCTIONS}

    def discover(self, params):
        return {"supportedVersions": [*protocol.HANDSHAKE_VERSIONS, *protocol.MODERN_VERSIONS],
                "capabilities": CAPABILITIES, "instructions": INSTRUCTIONS}

    def ping(self, params):
        return {}

    def list_tools(self, params):
        return {"tools": [tool.listing() for tool in tools.TOOLS.values()]}

    def call_tool(self, params):
        name = params.get("name")
        tool = tools.TOOLS.get(name) if isinstance(name, str) else None
        if tool is None:
            raise RpcError(protocol.INVALID_PARAMS, f"unknown tool: {name!r}")
        arguments = params.get("arguments")
        arguments = {} if arguments is None else arguments
        if not isinstance(arguments, dict):
            raise RpcError(protocol.INVALID_PARAMS, "arguments must be an object")
        try:
            tool.check(arguments)
            if "agent_id" in arguments:  # who this connection speaks for is connection state: the server's
                self.bind(arguments["agent_id"])
            text, doc = self._with_context(lambda ctx: tool.handler(ctx, arguments))
        except AgentSyncError as exc:
            return {"content": [{"type": "text", "text": str(exc)}], "isError": True}
        return {"content": [{"type": "text", "text": text}], "structuredContent": doc, "isError": False}

    def list_resources(self, params):
        return {"resources": [{"uri": uri, "name": name, "description": text, "mimeType": "application/json"}
                              for uri, (name, text) in RESOURCES.items()]}

    def list_resource_templates(self, params):
        return {"resourceTemplates": []}

    def read_resource(self, params):
        uri = params.get("uri")
        if uri not in RESOURCES:
            raise RpcError(protocol.RESOURCE_NOT_FOUND, f"resource not found: {uri!r}", {"uri": uri})
        try:
            doc = self._with_context(lambda ctx: _resource(ctx, RESOURCES[uri][0]))
        except AgentSyncError as exc:
            raise RpcError(protocol.INTERNAL_ERROR, str(exc)) from None
        return {"contents": [{"uri": uri, "mimeType": "application/json", "text": _json(doc)}]}

    # -- identity and context --------------------------------------------------------------------------

    def identity(self, root):
        """Who this connection speaks for, decided on first use and then fixed."""
        if self.me is None:
            session = next((self.environ[v] for v in identity.SESSION_VARS if self.environ.get(v)), None)
            if self.environ.get("AGENT_SYNC_ID") or session:
                self.me = identity.resolve(root, session, environ=self.environ)
            else:
                key = f"mcp:{self.client_name or 'client'}:{os.getpid()}:{self.started}"
                self.me = identity.Identity(identity.session_agent_id(key), "mcp-client", key)
        return self.me

    def bind(self, agent_id):
        """Act as `agent_id` from now on (register's agent_id): the id the client's hooks use."""
        identity.check_id(agent_id)
        if agent_id.lower() == identity.OPERATOR:
            raise UsageError("'operator' is reserved for the console")
        self.me = identity.Identity(agent_id, "mcp-register")

    def _with_context(self, work):
        try:
            ctx = self._context()
            ctx.store.check_in()
            return work(ctx)
        except OSError as exc:
            self.close()
            raise StorageError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None
        except StorageError:
            self.close()  # the next request starts from a new connection
            raise

    def _context(self):
        """The connection's context, kept open between requests: a connection closed after every call
        would be the database's last one each time, and pay for creating, syncing, checkpointing and
        deleting the WAL file on every tool call. A new one when the root or the configured backend
        changed (a migration to etcd, or back), or the database file was replaced or removed (doctor
        --repair, a deleted folder), so no call writes where the others no longer look."""
        from ..core import backend
        from ..core.context import Context

        root = repo.find_root(self.cwd, environ=self.environ)
        tree = repo.find_tree(self.cwd, environ=self.environ)
        choice = backend.resolve(root, self.environ)
        ctx = self.ctx
        if ctx is not None and (ctx.root != root or ctx.tree != tree or not _same_backend(ctx.backend, choice)
                                or ctx.file_moved()):
            self.close()
            ctx = None
        if ctx is None:
            ctx = self.ctx = Context(root=root, tree=tree, cwd=self.cwd, me=self.identity(root), backend_choice=choice)
        ctx.me = self.identity(root)
        ctx.tick()
        return ctx


def _same_backend(one, other):
    return one is not None and (one.kind, one.url, one.configured_namespace) == (
        other.kind, other.url, other.configured_namespace)


METHODS = {
    "initialize": Server.initialize,
    "server/discover": Server.discover,
    "ping": Server.ping,
    "tools/list": Server.list_tools,
    "tools/call": Server.call_tool,
    "resources/list": Server.list_resources,
    "resources/templates/list": Server.list_resource_templates,
    "resources/read": Server.read_resource,
}


def _resource(ctx, kind):
    if kind == "status":
        return documents.status(ctx)

    return documents.document("locks", locks=[documents.lock(r, ctx.now) for r in ctx.store.locks()])


def _json(doc):
    import json

    return json.dumps(doc, ensure_ascii=False, indent=2)


def main(stdin=None, stdout=None):
    """Serve until end of input; the exit code."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    try:
        return Server().serve(stdin, stdout)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
