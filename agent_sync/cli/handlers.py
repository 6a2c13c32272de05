"""One small handler per CLI command: translate arguments, call the core, print.

Handlers take (ctx, args) and return an exit code. They never touch SQL.
"""

import sys

from ..core import lazy
from ..core.durations import format_duration, parse_duration
from ..core.errors import OK, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..core import clock, config, documents, lockspec, messages, render, sanitize
else:  # each imported on first use: a command loads only what it prints with
    lazy.modules("agent_sync.core", "clock config documents lockspec messages render sanitize", globals())


# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal may obey: C1 controls (0x9b is
# CSI) and bidi overrides. As \u escapes they are the same JSON, and harmless on a screen.
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in (*range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F),
                                            *range(0x2066, 0x206A))}


def emit(args, doc, text):
    """Print a JSON document with --json, else the human text."""
    if getattr(args, "json", False):
        from ..core import fastjson

        print(fastjson.dumps(doc).translate(_JSON_ESCAPES))
    else:
        print(text)
    return OK


def _ttl(args):
    ttl = getattr(args, "ttl", None)
    return config.DEFAULT_TTL if ttl is None else parse_duration(ttl, bare_unit="m", minimum=1)


def cmd_init(ctx, args):
    print(f"agent-sync database ready: {ctx.store.location}")
    return OK


def cmd_register(ctx, args):
    row = ctx.store.register(args.name, args.role)
    role = f" ({render.quoted(row['role'])})" if row["role"] else ""
    print(f"registered {render.quoted(row['name'])}{role} as agent {row['id']}")
    return OK


def cmd_heartbeat(ctx, args):
    ctx.store.set_state("active")
    print(f"{ctx.me.id} is active")
    return OK


def cmd_whoami(ctx, args):
    doc = documents.whoami(ctx)
    name = render.quoted(doc["agent"]["name"]) if doc["agent"] else "(unregistered)"
    text = f"{name} [{doc['id']}] - identity from {doc['source']}"
    if doc["source"] == "local":
        text += " (set AGENT_SYNC_ID to tell shells apart)"
    return emit(args, doc, text + f"\nrepository: {doc['root']}")


def cmd_agents(ctx, args):
    docs = [documents.agent(r) for r in ctx.store.agents()]
    return emit(args, documents.document("agents", agents=docs), render.agents_text(docs))


def cmd_status(ctx, args):
    doc = documents.status(ctx)
    if args.compact:
        print(render.compact(doc))
        return OK
    return emit(args, doc, render.status_text(doc))


def cmd_tasks(ctx, args):
    states = args.state or None
    docs = [documents.task(r, ctx.store.task_files(r["id"])) for r in ctx.store.tasks(states)]
    return emit(args, documents.document("tasks", tasks=docs), render.tasks_text(docs))


def _task_done(args, row, verb):
    print(render.task_outcome(verb, row))
    return OK


def cmd_create_task(ctx, args):
    row = ctx.store.create_task(args.title, args.description or "", args.file or (), args.priority, args.depends_on or ())
    return _task_done(args, row, "created")


def _ttl_needs_lock(args):
    if getattr(args, "ttl", None) is not None and not args.lock:
        raise UsageError("--ttl is the lifetime of the locks --lock takes; add --lock, or leave --ttl out")


def cmd_claim_task(ctx, args):
    _ttl_needs_lock(args)
    return _task_done(args, ctx.store.claim(args.task, lock=args.lock, ttl=_ttl(args)), "claimed")


def cmd_claim_next(ctx, args):
    _ttl_needs_lock(args)
    say = (lambda text: print(text, file=sys.stderr)) if args.verbose else None
    return _task_done(args, ctx.store.claim_next(lock=args.lock, ttl=_ttl(args), explain=say), "claimed")


def cmd_complete_task(ctx, args):
    return _task_done(args, ctx.store.complete(args.task, force=args.force), "completed")


def cmd_block_task(ctx, args):
    return _task_done(args, ctx.store.block(args.task, args.reason, force=args.force), "blocked")


def cmd_cancel_task(ctx, args):
    return _task_done(args, ctx.store.cancel(args.task, force=args.force), "cancelled")


def cmd_reopen_task(ctx, args):
    return _task_done(args, ctx.store.reopen(args.task, force=args.force), "reopened")


def _specs(ctx, args):
    specs = lockspec.parse_many(ctx, args.paths, resource=args.resource)
    whole = [raw for raw, spec in zip(args.paths, specs) if spec.key == "**" and spec.kind == lockspec.GLOB
             and raw.strip("/") not in ("**", "**/*")]
    if whole and not getattr(args, "whole_repo", True):
        raise UsageError(f"{whole[0]!r} is the whole repository; say --whole-repo to lock all of it")
    return specs


def cmd_lock(ctx, args):
    wait = None if args.wait is None else parse_duration(args.wait, bare_unit="s")
    mode = "shared" if args.shared else "exclusive"
    rows = ctx.store.acquire(_specs(ctx, args), reason=args.reason or "", ttl=_ttl(args), mode=mode, wait=wait)
    for row in rows:
        shared = " (shared)" if row["mode"] == "shared" else ""
        print(f"locked {sanitize.field(row['path'], 200)}{shared} for {format_duration(row['expires_at'] - ctx.now)}"
              f" until {clock.iso(row['expires_at'])} (token {row['token']})")
    return OK


def cmd_unlock(ctx, args):
    for path in ctx.store.release(_specs(ctx, args), force=args.force):
        print(f"unlocked {sanitize.field(path, 200)}")
    return OK


def cmd_renew(ctx, args):
    specs = lockspec.parse_many(ctx, args.paths) if args.paths else None
    ttl = parse_duration(args.ttl, bare_unit="m", minimum=1) if args.ttl is not None else None
    renewed = ctx.store.renew(specs, ttl)
    print("renewed " + ", ".join(sanitize.field(p, 200) for p in renewed) if renewed else "you hold no live locks")
    return OK


def cmd_locks(ctx, args):
    docs = [documents.lock(r, ctx.now) for r in ctx.store.locks(include_expired=args.all, mine=args.mine)]
    return emit(args, documents.document("locks", locks=docs), render.locks_text(docs))


def cmd_send(ctx, args):
    message_id = ctx.store.send(args.to, args.message, reply_to=args.reply_to)
    print(f"sent message #{message_id} to {render.quoted(args.to, 64)}")
    return OK


def cmd_inbox(ctx, args):
    """Listing never consumes; --mark-read marks what was printed, once stdout took it all."""
    rows = ctx.store.history() if args.all else ctx.store.pending()
    docs = [documents.message(r) for r in rows]
    empty = "No messages." if args.all else "No unread messages."
    emit(args, documents.document("inbox", messages=docs), render.messages_framed(docs, empty))
    if args.mark_read and docs:
        sys.stdout.flush()  # a full disk or a closed pipe raises here, before anything is marked
        ctx.store.mark_read([d["id"] for d in docs], via="inbox")
    return OK


def cmd_read_message(ctx, args):
    doc = documents.message(ctx.store.read_message(messages.parse_id(args.id)))
    return emit(args, documents.document("message", message=doc), render.messages_framed([doc]))


def cmd_ack(ctx, args):
    message_id = messages.parse_id(args.id)
    ctx.store.ack(message_id)
    print(f"acknowledged message #{message_id}")
    return OK


def cmd_decision(ctx, args):
    print(f"recorded decision #{ctx.store.decide(args.text)}")
    return OK


def cmd_decisions(ctx, args):
    docs = [documents.decision(r) for r in ctx.store.decisions(limit=args.limit)]
    return emit(args, documents.document("decisions", decisions=docs), render.decisions_text(docs))


def cmd_log(ctx, args):
    print(f"logged activity #{ctx.store.add_entry(args.type, args.message, args.file)}")
    return OK


def cmd_gc(ctx, args):
    counts = ctx.store.gc()
    print("gc: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))
    return OK
