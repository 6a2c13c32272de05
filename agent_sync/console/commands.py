"""Operator commands: parse one prompt line, call the core, describe the outcome.

No curses here: the console shows an Outcome's lines, and tests call
`execute(ctx, line)` directly against a real database.
"""


from ..core import clock, config, lockspec, messages, live_view
from ..core.errors import AgentSyncError, UsageError
from ..core.sanitize import one_line
from .feed import ARROW, local_clock

QUIT_WORDS = ("quit", "q", "exit")


class Outcome:
    """What a command did: lines to show, whether they report an error, whether to leave."""

    __slots__ = ("error", "lines", "quit")

    def __init__(self, lines=(), error=False, quit=False):
        self.lines = [one_line(line, 1000) for line in lines]
        self.error = error
        self.quit = quit

    @property
    def summary(self):
        return self.lines[0] if self.lines else ""


# ---------------------------------------------------------------------------
# Words: a leading word may be quoted; the rest of the line is free text


def take_word(text):
    """(first word, rest of the line). A word may be wrapped in '…' or "…"."""
    text = text.lstrip()
    if not text:
        return "", ""
    if text[0] in "\"'":
        end = text.find(text[0], 1)
        if end < 0:
            raise UsageError(f"unclosed {text[0]} quote")
        return text[1:end], text[end + 1:]
    end = next((i for i, ch in enumerate(text) if ch.isspace()), len(text))
    return text[:end], text[end:]


def free_text(text):
    """The rest of a line, without one pair of quotes wrapped around all of it."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" and text[0] not in text[1:-1]:
        return text[1:-1]
    return text


def _need(ok, usage):
    if not ok:
        raise UsageError(f"usage: {usage}")


def _split_reason(text, usage):
    """`ref :: reason` into its two halves."""
    ref, sep, reason = text.partition("::")
    _need(sep and free_text(ref) and free_text(reason), usage)
    return free_text(ref), free_text(reason)


# ---------------------------------------------------------------------------
# Handlers: (ctx, rest of line) -> list of result lines


def _send(ctx, rest):
    to, body = take_word(rest)
    _need(to and free_text(body), "send <to> <message>")
    message_id = ctx.store.send(to, free_text(body))
    return [f"sent #{message_id} to {to}"]


def _directive(ctx, rest):
    to, body = take_word(rest)
    _need(to and free_text(body), "directive <to|all> <message>")
    ids = ctx.store.directive(to, free_text(body))
    if to.lower() == messages.ALL:
        return [f"directive -> {len(ids)} active agent(s)"]
    return [f"directive #{ids[0]} to {to}"]


def _lock(ctx, rest):
    path, reason = take_word(rest)
    _need(path, "lock <path> [reason]")
    spec = lockspec.parse(ctx, path)
    rows = ctx.store.acquire([spec], reason=free_text(reason), ttl=config.DEFAULT_TTL)
    return [f"locked {row['path']} (until {clock.iso(row['expires_at'])})" for row in rows]


def _unlock(ctx, rest):
    path, extra = take_word(rest)
    _need(path and not extra.strip(), "unlock <path>")
    return [f"unlocked {p}" for p in ctx.store.release([lockspec.parse(ctx, path)], force=True)]


def _task(ctx, rest):
    sub, rest = take_word(rest)
    action = TASK_ACTIONS.get(sub.lower())
    _need(action, "task new|done|block|cancel|reopen ...")
    return action(ctx, rest)


def _task_line(verb, row):
    return [f"{verb} #{row['id']} {row['title']} [{row['status']}]"]


def _task_new(ctx, rest):
    title, _sep, description = rest.partition("::")
    _need(free_text(title), "task new <title> [:: description]")
    return _task_line("created", ctx.store.create_task(free_text(title), free_text(description)))


def _task_done(ctx, rest):
    _need(free_text(rest), "task done <id|title>")
    return _task_line("completed", ctx.store.complete(free_text(rest), force=True))


def _task_block(ctx, rest):
    ref, reason = _split_reason(rest, "task block <id|title> :: <reason>")
    return _task_line("blocked", ctx.store.block(ref, reason, force=True))


def _task_cancel(ctx, rest):
    _need(free_text(rest), "task cancel <id|title>")
    return _task_line("cancelled", ctx.store.cancel(free_text(rest), force=True))


def _task_reopen(ctx, rest):
    _need(free_text(rest), "task reopen <id|title>")
    return _task_line("reopened", ctx.store.reopen(free_text(rest), force=True))


def _decision(ctx, rest):
    _need(free_text(rest), "decision <text>")
    return [f"recorded decision #{ctx.store.decide(free_text(rest))}"]


def _status(ctx, rest):
    snap = live_view.take(ctx)
    return status_lines(snap)


def _msgs(ctx, rest):
    raw = free_text(rest) or "10"
    _need(raw.isdigit() and int(raw) > 0, "msgs [count]")
    rows = list(reversed(ctx.store.recent_messages(limit=min(int(raw), 200))))
    if not rows:
        return ["no messages yet"]
    return [message_line(row) for row in rows]


def _help(ctx, rest):
    wanted = free_text(rest).lower()
    if wanted:
        entry = COMMANDS.get(wanted)
        _need(entry, "help [command]")
        return [f"{entry[1]}  -  {entry[2]}"]
    return ["commands:"] + [f"  {usage:<34} {text}" for _handler, usage, text in COMMANDS.values()]


def status_lines(snap):
    """The `status` command's text: agents, locks and task counts."""
    peers = [a for a in snap["agents"] if a["kind"] == "agent"]
    active = sum(1 for a in peers if a["status"] == "active")
    lines = [f"agents ({active} active / {len(peers)} total):"]
    names = [one_line(a["name"], 64) for a in peers]
    width = max(map(len, names), default=0)
    for a, name in zip(peers, names):
        task = f" #{a['current_task']} {a['task_title']}" if a["current_task"] else ""
        lines.append(f"  {name:<{width}} [{a['status']}] {a['role']}{task}".rstrip())
    lines.append(f"locks ({len(snap['locks'])}):")
    for lk in snap["locks"]:
        reason = f" - {lk['reason']}" if lk["reason"] else ""
        held = "" if lk["enforced"] else f" (not held: owner {lk['owner_status']})"
        lines.append(f"  {lk['path']} {ARROW} {lk['owner_name']}{reason}{held}")
    counts = snap["board"]["counts"]
    lines.append("tasks: " + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items()))
    return lines


def message_line(row):
    kind = " DIRECTIVE" if row["kind"] == "directive" else ""
    return (f"#{row['id']}{kind} {local_clock(row['created_at'])} {row['sender_name']} {ARROW} "
            f"{row['recipient']}: {row['body']}")


def _quit(ctx, rest):
    return Outcome(["bye"], quit=True)


TASK_ACTIONS = {"new": _task_new, "done": _task_done, "block": _task_block,
                "cancel": _task_cancel, "reopen": _task_reopen}

# name: (handler, usage, help). The one table behind dispatch, `help` and Tab completion.
COMMANDS = {
    "send": (_send, "send <to> <message>", "message an agent id, name, role or all"),
    "directive": (_directive, "directive <to|all> <message>",
                  "a directed message; `all` sends one copy to every active agent"),
    "lock": (_lock, "lock <path> [reason]", "lock a file, directory or pattern for 60m"),
    "unlock": (_unlock, "unlock <path>", "release a lock, anyone's"),
    "task": (_task, "task new|done|block|cancel|reopen ...",
             "drive the board: task new <title>, task block <ref> :: <reason>"),
    "decision": (_decision, "decision <text>", "record a shared decision"),
    "status": (_status, "status", "print agents, locks and task counts"),
    "msgs": (_msgs, "msgs [count]", "print the most recent messages (default 10)"),
    "help": (_help, "help [command]", "list the commands"),
    "quit": (_quit, "quit", "leave the console (also q, Ctrl-D, Ctrl-C)"),
}


def execute(ctx, line):
    """Run one prompt line; every project or database error becomes an error Outcome."""
    try:
        verb, rest = take_word(line)
        if not verb:
            return Outcome()
        name = "quit" if verb.lower() in QUIT_WORDS else verb.lower()
        entry = COMMANDS.get(name)
        if entry is None:
            raise UsageError(f"unknown command {verb!r} (type help)")
        ctx.tick()
        result = entry[0](ctx, rest)
    except AgentSyncError as exc:
        return Outcome(str(exc).splitlines() or [type(exc).__name__], error=True)
    return result if isinstance(result, Outcome) else Outcome(result)


# ---------------------------------------------------------------------------
# Tab completion


def completions(before, names=(), paths=(), task_refs=()):
    """Words that could complete the last (partial) word of `before`."""
    words = before.split()
    partial = "" if not before or before[-1].isspace() else words.pop()
    pool = _pool(words, names, paths, task_refs)
    folded = partial.casefold()
    return sorted({w for w in pool if w.casefold().startswith(folded)})


def _pool(words, names, paths, task_refs):
    if not words:
        return list(COMMANDS) + ["q"]
    verb = words[0].lower()
    if len(words) == 1:
        if verb in ("send", "directive"):
            return ["all", *names]
        if verb == "unlock":
            return list(paths)
        if verb == "task":
            return list(TASK_ACTIONS)
        if verb == "help":
            return list(COMMANDS)
    if verb == "task" and len(words) == 2 and words[1].lower() in ("done", "block", "cancel", "reopen"):
        return list(task_refs)
    return []
