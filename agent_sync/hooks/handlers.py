"""What agent-sync does at each hook event, for any agent.

Pre-tool checks consult the lock index first and open SQLite only when some
lock of another agent could cover a target; prompt and stop checks consult
the mail stamps first. Heavy modules are imported only on those slow paths.
"""

import os
import time

from ..core import identity, repo
from ..core.errors import UsageError
from . import model

# Each event imports only what its fast path needs (lockindex and lockspec for edits, push and the mail
# stamps for prompts): every module is start-up time on every tool call.

HELD_ADVICE = ("Your change and theirs may collide: check the file, and do not edit it again before its holder "
               "answers you.")
REFUSAL_LOG_WAIT = 0.25  # seconds a refusal waits to be logged: a busy database must not slow the answer
STOP_ADVICE = ("Other agents addressed these messages to you. Act on them or reply "
               "(agent-sync send --to <sender> --message ...) before you finish.")
TOOL_ADVICE = ("agent-sync: these arrived while you were working. Read them before your next step; "
               "reply or adapt if they concern your task, then carry on.")


class Where:
    """Repository, working directory and caller for one hook call."""

    def __init__(self, event):
        cwd = event.cwd if event.cwd and os.path.isdir(event.cwd) else os.getcwd()
        self.cwd = cwd
        self.root = repo.find_root(cwd)
        self.tree = repo.find_tree(cwd)
        self.me = identity.resolve(self.root, event.session_id)
        from ..core import cachestamp

        self.remote = cachestamp.configured(self.root)  # etcd: the local files are a cache the watcher keeps
        self.has_db = self.remote or os.path.exists(repo.db_path(self.root))

    def stale_note(self):
        """With etcd, a note when the engine last confirmed the cache too long ago (None: fresh, or SQLite)."""
        if not self.remote:
            return None
        from ..core import cachestamp, config

        bound = config.duration("AGENT_SYNC_CACHE_STALE")
        age = cachestamp.age(self.root, time.time())
        if age is not None and age <= bound:
            return None
        from ..core.etcd import watcher

        watcher.start(self.root)  # it was not running, or is behind: make sure one runs
        shown = "has never been written" if age is None else f"is {age:.0f}s old"
        return (f"agent-sync hook: the local lock cache {shown} (limit {bound:g}s: the watcher is behind or "
                "etcd is unreachable), so the hook asked etcd itself")

    def context(self):
        from ..core import config
        from ..core.context import Context

        return Context(root=self.root, tree=self.tree, cwd=self.cwd, me=self.me,
                       busy_timeout=config.duration("AGENT_SYNC_HOOK_BUSY_TIMEOUT"))


def handle(event):
    return HANDLERS[event.kind](event)


def _targets(event, cwd):
    """Raw paths the tool would write, or None when it writes nothing we can see."""
    if event.tool == model.EDIT:
        return event.paths or None
    if event.tool == model.SHELL and event.command:
        from . import shellparse

        found = shellparse.write_targets(event.command, cwd) or []
        return event.paths + found or None  # event.paths: what a patch inside the command writes
    return None


def _specs(where, raw_paths, fold):
    """Repo-relative (key, path, kind) for targets inside the repository."""
    from ..core import lockspec

    specs = []
    for raw in raw_paths:
        try:
            rel = repo.relative_path(where.tree, raw, where.cwd, repo_root=where.root)
        except (UsageError, ValueError):  # outside the repo, or unusable (unencodable, NUL): not ours to guard
            if not repo.holds_tree(raw, where.cwd, where.tree):
                continue
            rel = ""  # `rm -rf ..`, `rm -rf ../repo`: the repository itself goes with its ancestor
        specs.append(lockspec.of_path(rel, where.tree, fold))  # `rm -rf src` covers src/**
    return specs


def _index_may_block(where, raw_paths):
    """False only when no live lock of another agent can cover any target."""
    from ..core import indexfile, lockindex

    index = lockindex.read(where.root)
    if index is None:
        return where.has_db
    case_insensitive, entries = index
    return indexfile.may_block(entries, where.me.id, _specs(where, raw_paths, case_insensitive), time.time())


def pre_tool(event):
    if event.tool == model.OTHER:
        return model.ALLOW
    cwd = event.cwd if event.cwd and os.path.isdir(event.cwd) else os.getcwd()
    raw_paths = _targets(event, cwd)
    if not raw_paths:
        return model.ALLOW
    where = Where(event)
    stale = where.stale_note()
    if stale is None and not _index_may_block(where, raw_paths):
        return model.ALLOW
    from ..core.errors import AgentSyncError

    ctx = where.context()
    try:
        if ctx.store.backend != "etcd":
            stale = None  # the config file names etcd, but this checkout is on SQLite (AGENT_SYNC_BACKEND)
        try:
            found = ctx.store.blockers(_specs(where, raw_paths, ctx.store.case_insensitive))
        except AgentSyncError as exc:
            if stale is None:
                raise
            return model.Outcome(note=f"{stale}; etcd did not answer ({exc}): allowed, nothing was blocked")
        if not found:
            return model.Outcome(note=stale) if stale else model.ALLOW
        return model.refused(ctx.store.explain(found), _log_refusal(ctx, event, found))
    finally:
        ctx.close()


def _log_refusal(ctx, event, found):
    """Put the refusal in the activity feed (no later hook fires for a refused tool); the error, if
    that fails: a busy or read-only database must never turn the refusal into an allow."""
    from ..core.errors import AgentSyncError

    try:
        ctx.store.record_refusal(found, event.tool_name, wait=REFUSAL_LOG_WAIT)
    except AgentSyncError as exc:  # logging is best effort; the block stands
        return exc
    return None


def post_tool(event):
    """After a tool: log an edit, take or renew its leases; push what arrived meanwhile."""
    from . import push

    where = Where(event)
    if not where.has_db:
        return model.ALLOW
    raw_paths = _targets(event, where.cwd)
    pushing = push.wanted_after(event) and not push.settled(where.root, where.me.id)
    if not raw_paths and not pushing:
        return model.ALLOW
    ctx = where.context()
    try:
        note = _record_edit(ctx, where, event, raw_paths) if raw_paths else None
        text = _take(ctx, where, "post-tool-hook") if pushing else None
    finally:
        ctx.close()
    parts = [p for p in (note, f"{text}\n{TOOL_ADVICE}" if text else None) if p]
    return model.Outcome(context="\n".join(parts)) if parts else model.ALLOW


def _record_edit(ctx, where, event, raw_paths):
    """Log the edit and renew or take its locks and leases; a note when another agent held the file."""
    ctx.store.check_in()
    held = ctx.store.record_edit(_specs(where, raw_paths, ctx.store.case_insensitive), event.tool_name)
    return _held_note(ctx, held)


def _held_note(ctx, held):
    """Tell an agent whose edit went through while another agent held the file (no silent overwrite)."""
    if not held:
        return None
    from ..core import sanitize

    return sanitize.frame(f"[agent-sync] Your edit went through, but another agent holds the file: "
                          f"{ctx.store.explain(held)}\n{HELD_ADVICE}")


def session_start(event):
    from ..core import config, documents, mailstamp, render
    from ..core.errors import AgentSyncError

    where = Where(event)
    ctx = where.context()
    try:
        ctx.store.check_in()
        ctx.store.gc()
        note = ""
        if config.flag("AGENT_SYNC_AUTO_CLAIM") and not ctx.store.owned_tasks():
            try:
                task = ctx.store.claim_next()
                # Inside the frame: the title is another agent's words.
                note = (f"agent-sync assigned you task #{task['id']}: {render.field(task['title'])}. "
                        "Lock its files before editing; complete-task when done.")
            except AgentSyncError:
                pass
        text = render.compact(documents.status(ctx), note)
        mailstamp.mark_seen(where.root, where.me.id, ctx.store.high_water())
        if ctx.store.backend == "etcd":
            from ..core.etcd import cache

            cache.after_use(ctx)  # the watcher that keeps this checkout's hook cache fresh
    finally:
        ctx.close()
    return model.Outcome(context=text)


def _take(ctx, where, via, directed_only=False):
    """Check in, take the pending messages exactly once, and render them framed (None when there are none)."""
    from ..core import documents, mailstamp, render

    ctx.store.check_in()

    def fit(rows):
        return render.context_fit([documents.message(r) for r in rows])

    rows, left = ctx.store.take_pending(via, directed_only=directed_only, how_many=fit)
    mailstamp.mark_seen(where.root, where.me.id, ctx.store.high_water())
    if not rows:
        return None
    return render.context_messages([documents.message(r) for r in rows], left)


def take_for(where, via, directed_only=False):
    """`_take` with a connection of its own."""
    ctx = where.context()
    try:
        return _take(ctx, where, via, directed_only)
    finally:
        ctx.close()


def _deliver(where, directed_only):
    from . import push

    if not where.has_db or (push.settled(where.root, where.me.id) and not where.stale_note()):
        return None
    return take_for(where, "stop-hook" if directed_only else "prompt-hook", directed_only)


def prompt(event):
    from . import push

    if event.subagent:
        return model.ALLOW  # a subagent's context is discarded: the message waits for its parent
    where = Where(event)
    push.retire_waiter(where.root, where.me.id)  # a new turn: the session is busy, its idle waiter leaves
    text = _deliver(where, directed_only=False)
    return model.Outcome(context=text) if text else model.ALLOW


def stop(event):
    if event.subagent:
        return model.ALLOW  # what a subagent is told when it stops is lost with it: the parent gets it
    if event.stop_active:
        return model.ALLOW  # never block twice in a row; the message waits for the next turn
    text = _deliver(Where(event), directed_only=True)
    return model.Outcome(stop_reason=f"{text}\n{STOP_ADVICE}") if text else model.ALLOW


def idle(event):
    from . import wake

    return wake.idle_wait(event, lambda where, directed_only: take_for(where, "wake", directed_only))


def subagent_start(event):
    """A subagent starts without its parent's context: give it the state (no messages: those are the parent's)."""
    from ..core import documents, render

    where = Where(event)
    if event.subagent_id and where.me.session:
        try:
            identity.record_parent(where.root, event.subagent_id, where.me.session)
        except OSError:
            pass  # its shell then acts as its own agent; the hooks still know it as its parent
    if not where.has_db:
        return model.ALLOW
    ctx = where.context()
    try:
        return model.Outcome(context=render.compact(documents.status(ctx)))
    finally:
        ctx.close()


def session_end(event):
    from ..core import config
    from . import push

    where = Where(event)
    push.retire_waiter(where.root, where.me.id)
    if not where.has_db:
        return model.ALLOW

    ctx = where.context()
    try:
        ctx.store.set_state("offline" if event.end_reason in ("logout", "prompt_input_exit") else "idle")
        ctx.store.release_leases("session ended")
        if config.flag("AGENT_SYNC_AUTO_RELEASE_LOCKS"):
            ctx.store.release_all()
    finally:
        ctx.close()
    return model.ALLOW


HANDLERS = {
    model.SESSION_START: session_start,
    model.PROMPT: prompt,
    model.PRE_TOOL: pre_tool,
    model.POST_TOOL: post_tool,
    model.STOP: stop,
    model.SUBAGENT_START: subagent_start,
    model.IDLE: idle,
    model.SESSION_END: session_end,
}
