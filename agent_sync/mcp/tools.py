"""The MCP tools: one table mirroring the CLI, each entry a JSON Schema and a handler over the core.

A handler takes (ctx, arguments) and returns (text, structured document).
Domain errors propagate as they are; the server turns them into tool
results with isError, worded exactly as the CLI words them.
"""

from ..core import clock, config, lockspec, messages, render, documents, wording as w
from ..core.durations import format_duration, parse_duration
from ..core import numbers
from ..core.errors import UsageError

MAX_WAIT = 300


def string(description):
    return {"type": "string", "description": description}


def flag(description):
    return {"type": "boolean", "description": description}


def strings(description, min_items=0):
    schema = {"type": "array", "items": {"type": "string"}, "description": description}
    if min_items:
        schema["minItems"] = min_items
    return schema


TASK = {"type": ["string", "integer"], "description": w.TASK}
MESSAGE_ID = {"type": ["string", "integer"], "description": w.MESSAGE_ID}
TTL = {"type": ["string", "number"],
       "description": w.TTL}
FORCE = flag(w.FORCE)
PATHS = strings("files, directories (dir/), patterns ('src/**'); relative paths start from the server's "
                "working directory, normally the repository root", 1)


class Tool:
    """One MCP tool: its name, schema and handler."""

    def __init__(self, name, title, description, handler, properties=None, required=(), read_only=False,
                 destructive=False):
        self.name, self.title, self.description, self.handler = name, title, description, handler
        self.properties = properties or {}
        self.required = tuple(required)
        self.read_only, self.destructive = read_only, destructive

    def listing(self):
        schema = {"type": "object", "properties": self.properties, "additionalProperties": False}
        if self.required:
            schema["required"] = list(self.required)
        return {"name": self.name, "title": self.title, "description": self.description, "inputSchema": schema,
                "annotations": {"readOnlyHint": self.read_only, "destructiveHint": self.destructive,
                                "openWorldHint": False}}

    def check(self, arguments):
        """UsageError unless `arguments` fits the schema (the subset of JSON Schema used here)."""
        missing = [name for name in self.required if name not in arguments]
        if missing:
            raise UsageError(f"{self.name}: missing required argument(s): {', '.join(missing)}")
        for name, value in arguments.items():
            schema = self.properties.get(name)
            if schema is None:
                known = ", ".join(self.properties) or "none"
                raise UsageError(f"{self.name}: unknown argument {name!r}; expected {known}")
            if not _fits(value, schema):
                raise UsageError(f"{self.name}: argument {name!r} must be {_describe(schema)}")


_TYPES = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: numbers.in_range(v),  # beyond 2^63 SQLite cannot store it: invalid params
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
}


def _fits(value, schema):
    if not any(_TYPES[kind](value) for kind in _kinds(schema)):
        return False
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return False
        return all(_fits(item, schema["items"]) for item in value)
    return True


def _kinds(schema):
    return schema["type"] if isinstance(schema["type"], list) else [schema["type"]]


def _describe(schema):
    """'a string or an integer', 'an array of string values with at least 1 item'."""
    parts = []
    for kind in _kinds(schema):
        if kind == "array":
            parts.append("an array of " + "/".join(_kinds(schema["items"])) + " values")
        else:
            parts.append(("an " if kind[0] in "aeiou" else "a ") + kind)
    least = f" with at least {schema['minItems']} item(s)" if schema.get("minItems") else ""
    return " or ".join(parts) + least


def _ttl(arguments):
    ttl = arguments.get("ttl")
    return config.DEFAULT_TTL if ttl is None else parse_duration(ttl, bare_unit="m", minimum=1)


def _task_text(verb, row):
    return render.task_outcome(verb, row)


def _task_result(ctx, verb, row):
    return _task_text(verb, row), documents.document("task", task=documents.task(row, ctx.store.task_files(row["id"])))


# --- handlers -------------------------------------------------------------------------------------------


def do_status(ctx, a):
    doc = documents.status(ctx)
    return (render.compact(doc) if a.get("compact") else render.status_text(doc)), doc


def do_register(ctx, a):
    """Name this agent. `agent_id` (bound by the server before this runs) may come alone."""
    if "name" not in a:
        if "agent_id" not in a:
            raise UsageError("register: give a name, an agent_id, or both")
        row = ctx.store.agent(ctx.me.id)
        return f"this connection now acts as agent {ctx.me.id}", documents.document("agent", agent=documents.agent(row))
    row = ctx.store.register(a["name"], a.get("role"))
    role = f" ({render.quoted(row['role'])})" if row["role"] else ""
    return f"registered {render.quoted(row['name'])}{role} as agent {row['id']}", documents.document(
        "agent", agent=documents.agent(row))


def do_whoami(ctx, a):
    doc = documents.whoami(ctx)
    name = render.quoted(doc["agent"]["name"]) if doc["agent"] else "(unregistered)"
    return f"{name} [{doc['id']}] - identity from {doc['source']}\nrepository: {doc['root']}", doc


def _specs(ctx, a, key="paths"):
    return lockspec.parse_many(ctx, a[key], resource=a.get("resource", False))


def do_lock(ctx, a):
    wait = a.get("wait")
    if wait is not None:
        wait = parse_duration(wait, bare_unit="s")
        if wait > MAX_WAIT:
            raise UsageError(f"wait is at most {MAX_WAIT}s over MCP")
    mode = "shared" if a.get("shared") else "exclusive"
    rows = ctx.store.acquire(_specs(ctx, a), reason=a.get("reason", ""), ttl=_ttl(a), mode=mode, wait=wait)
    lines, docs = [], []
    for row in rows:
        shared = " (shared)" if row["mode"] == "shared" else ""
        lines.append(f"locked {render.field(row['path'], 200)}{shared} for "
                     f"{format_duration(row['expires_at'] - ctx.now)} until {clock.iso(row['expires_at'])}"
                     f" (token {row['token']})")
        docs.append({"path": row["path"], "kind": row["kind"], "mode": row["mode"], "token": row["token"],
                     "expires_at": clock.iso(row["expires_at"])})
    return "\n".join(lines), documents.document("locked", locks=docs)


def do_unlock(ctx, a):
    released = ctx.store.release(_specs(ctx, a), force=a.get("force", False))
    return "\n".join(f"unlocked {render.field(p, 200)}" for p in released), documents.document("unlocked", paths=released)


def do_locks(ctx, a):
    docs = [documents.lock(r, ctx.now) for r in ctx.store.locks(include_expired=a.get("all", False),
                                                          mine=a.get("mine", False))]
    return render.locks_text(docs), documents.document("locks", locks=docs)


def do_renew(ctx, a):
    specs = lockspec.parse_many(ctx, a["paths"]) if a.get("paths") else None
    ttl = parse_duration(a["ttl"], bare_unit="m", minimum=1) if a.get("ttl") is not None else None
    renewed = ctx.store.renew(specs, ttl)
    text = "renewed " + ", ".join(render.field(p, 200) for p in renewed) if renewed else "you hold no live locks"
    return text, documents.document("renewed", paths=renewed)


def do_create_task(ctx, a):
    row = ctx.store.create_task(a["title"], a.get("description", ""), a.get("files", ()), a.get("priority", 0),
                       [str(d) for d in a.get("depends_on", ())])
    return _task_result(ctx, "created", row)


def do_claim_task(ctx, a):
    return _task_result(ctx, "claimed", ctx.store.claim(str(a["task"]), lock=a.get("lock", False), ttl=_ttl(a)))


def do_claim_next(ctx, a):
    return _task_result(ctx, "claimed", ctx.store.claim_next(lock=a.get("lock", False), ttl=_ttl(a)))


def do_complete_task(ctx, a):
    return _task_result(ctx, "completed", ctx.store.complete(str(a["task"]), force=a.get("force", False)))


def do_block_task(ctx, a):
    row = ctx.store.block(str(a["task"]), a["reason"], force=a.get("force", False))
    return _task_result(ctx, "blocked", row)


def do_send(ctx, a):
    message_id = ctx.store.send(a["to"], a["message"], reply_to=a.get("reply_to"))
    return f"sent message #{message_id} to {render.quoted(a['to'], 64)}", documents.document("sent", id=message_id)


def do_inbox(ctx, a):
    """Listing marks nothing read; mark_read=true marks exactly the messages in this answer."""
    rows = ctx.store.history() if a.get("all") else ctx.store.pending()
    docs = [documents.message(r) for r in rows]
    empty = "No messages." if a.get("all") else "No unread messages."
    if a.get("mark_read") and docs:
        ctx.store.mark_read([d["id"] for d in docs], via="mcp")
    return render.messages_framed(docs, empty), documents.document("inbox", messages=docs)


def do_read_message(ctx, a):
    doc = documents.message(ctx.store.read_message(messages.parse_id(a["id"])))
    return render.messages_framed([doc]), documents.document("message", message=doc)


def do_ack(ctx, a):
    message_id = messages.parse_id(a["id"])
    ctx.store.ack(message_id)
    return f"acknowledged message #{message_id}", documents.document("acknowledged", id=message_id)


def do_decision(ctx, a):
    decision_id = ctx.store.decide(a["text"])
    return f"recorded decision #{decision_id}", documents.document("decision", id=decision_id)


def do_log(ctx, a):
    entry_id = ctx.store.add_entry(a["type"], a["message"], a.get("file"))
    return f"logged activity #{entry_id}", documents.document("logged", id=entry_id)


TOOLS = {tool.name: tool for tool in (
    Tool("status", "Coordination status", "Agents, tasks, locks, unread messages and recent activity in this "
         "repository. compact=true gives the terse view meant for an agent's context.", do_status,
         {"compact": flag("terse framed Markdown")}, read_only=True),
    Tool("register", "Register this agent", "Set this agent's name (unique among active agents) and role. "
         "agent_id binds this connection to the id agent-sync gave your session (session start shows it), so "
         "these tools and your hooks act as one agent.", do_register,
         {"name": string(w.NAME), "role": string(w.ROLE),
          "agent_id": string("act as this agent id from now on (letters, digits, . _ -)")}),
    Tool("whoami", "Who am I", "This agent's id, where the id came from, and the repository.", do_whoami,
         read_only=True),
    Tool("lock", "Lock files", "Lock files, directories, patterns or named resources, all or nothing. Lock a "
         "file before editing it; other agents' edits to it are then refused.", do_lock,
         {"paths": PATHS, "reason": string(w.REASON), "ttl": TTL,
          "shared": flag(w.SHARED),
          "resource": flag("paths name non-file resources (e.g. db-migrations)"),
          "wait": {"type": ["string", "number"],
                   "description": f"queue fairly until granted: seconds or a duration, at most {MAX_WAIT}s"}},
         ["paths"]),
    Tool("unlock", "Release locks", "Release your locks (another agent's only with force).", do_unlock,
         {"paths": PATHS, "resource": flag("paths name non-file resources"), "force": FORCE}, ["paths"],
         destructive=True),
    Tool("locks", "List locks", "Live locks in this repository.", do_locks,
         {"all": flag(w.ALL_LOCKS), "mine": flag(w.MINE)}, read_only=True),
    Tool("renew", "Renew locks", "Extend your locks (all of them, or the paths given).", do_renew,
         {"paths": strings(w.RENEW_PATHS),
          "ttl": {"type": ["string", "number"],
                  "description": w.RENEW_TTL}}),
    Tool("create_task", "Create a task", "Put a task on the shared board.", do_create_task,
         {"title": string(w.TITLE), "description": string(w.DESCRIPTION),
          "files": strings("files, directories or patterns the task touches"),
          "priority": {"type": "integer", "description": w.PRIORITY},
          "depends_on": {"type": "array", "items": {"type": ["string", "integer"]},
                         "description": "tasks that must be done first"}}, ["title"]),
    Tool("claim_task", "Claim a task", w.CLAIM_TASK, do_claim_task,
         {"task": TASK, "lock": flag(w.LOCK_WITH_CLAIM), "ttl": TTL}, ["task"]),
    Tool("claim_next", "Claim the next task", "Claim the best available task: highest priority, dependencies "
         "done, files free; reclaims tasks of stale agents.", do_claim_next,
         {"lock": flag("also lock the task's files"), "ttl": TTL}),
    Tool("complete_task", "Complete a task", "Mark your task done (another agent's only with force).",
         do_complete_task, {"task": TASK, "force": FORCE}, ["task"]),
    Tool("block_task", "Block a task", "Mark your task blocked, saying what it waits for.", do_block_task,
         {"task": TASK, "reason": string(w.BLOCK_REASON), "force": FORCE}, ["task", "reason"]),
    Tool("send", "Send a message", w.SEND, do_send,
         {"to": string(w.TO), "message": string(w.TEXT),
          "reply_to": {"type": "integer", "description": w.REPLY_TO}}, ["to", "message"]),
    Tool("inbox", "Read the inbox", "Unread messages addressed to you; listing marks nothing read. "
         "mark_read=true marks the messages returned read; all=true shows recent messages, read or not.",
         do_inbox, {"all": flag(w.ALL_MESSAGES),
                    "mark_read": flag("mark the messages returned read")}),
    Tool("read_message", "Read a message", w.READ_MESSAGE, do_read_message,
         {"id": MESSAGE_ID}, ["id"]),
    Tool("ack", "Acknowledge a message", w.ACK, do_ack, {"id": MESSAGE_ID},
         ["id"]),
    Tool("decision", "Record a decision", "Record a shared decision for every agent to see.", do_decision,
         {"text": string(w.DECISION)}, ["text"]),
    Tool("log", "Log activity", "Append an entry to the shared activity feed.", do_log,
         {"type": string(w.ENTRY_TYPE), "message": string(w.TEXT),
          "file": string(w.ENTRY_FILE)}, ["type", "message"]),
)}
