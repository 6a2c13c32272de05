"""The console: the operator's presence, the polling loop, and keys turned into actions.

Curses is imported here and in `screen`, never at CLI import time.
"""

import curses
import locale
import os
import sys
import time
from collections import deque

from ..core import live_view
from ..core.errors import AgentSyncError
from . import commands, registry, stopping
from .editor import LineEditor
from .entry import NoTerminal
from .feed import Feed, FeedItem
from .screen import PROMPT, Screen, View, clock, key_name

SNAPSHOT_EVERY = 1.0  # agents and locks are re-read at least this often (countdowns, staleness)
BOARD_EVERY = 30.0  # the task board is re-read on task activity, or at least this often
SCROLLBACK = 5000


class Session:
    """The operator identity while a console is open, and the state the screen shows."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.feed = Feed()
        self.items = deque(maxlen=SCROLLBACK)
        self.console = registry.Registration(ctx.root)
        self.snap = None
        self.board = None
        self.snap_at = self.board_at = -1e9
        self.version = None
        self.opened = False

    def open(self, name=None):
        """Register this console and check the operator in (active: its locks hold)."""
        self.console.start()
        if name:
            self.ctx.store.register(name)
        else:
            self.ctx.store.set_state("active")
        self.opened = True

    def close(self):
        """Turn the operator offline, unless another console is still open."""
        if self.console.stop() == 0 and self.opened:
            self.ctx.tick()
            self.ctx.store.set_state("offline")

    def refresh(self, force=False):
        """One tick: new feed items always; agents, locks and tasks when they may have changed."""
        ctx = self.ctx
        ctx.tick()
        if ctx.reopen_if_replaced():  # doctor --repair swapped the file (ids are kept): read the new one
            force = True
        ctx.store.check_in()  # writes at most every 30 s, or at once if another console set us offline
        self.console.beat()
        new = self.feed.poll(ctx)
        board_due = any(item.kind == "task" for item in new) or time.monotonic() - self.board_at >= BOARD_EVERY
        version = live_view.data_version(ctx)
        if force or board_due or version != self.version or time.monotonic() - self.snap_at >= SNAPSHOT_EVERY:
            self.version = version
            snap = live_view.take(ctx, board=force or board_due)
            self.snap, self.snap_at = snap, time.monotonic()
            if snap["board"] is not None:
                self.board, self.board_at = snap["board"], self.snap_at
            new += self.feed.presence(snap["agents"], ctx.now)
        self.items.extend(new)
        return new

    def note(self, kind, text):
        self.items.append(FeedItem(time.time(), kind, "", text))

    def names(self):
        peers = [a for a in (self.snap or {}).get("agents", []) if a["kind"] == "agent"]
        return sorted({a["name"] for a in peers} | {a["id"] for a in peers})

    def lock_paths(self):
        return [lk["path"] for lk in (self.snap or {}).get("locks", [])]

    def task_refs(self):
        live = (self.board or {}).get("tasks", {})
        return [f"#{t['id']}" for state in ("in_progress", "open", "blocked") for t in live.get(state, [])]


class Console:
    """Poll every `interval` seconds, redraw, and act on keys until the operator leaves."""

    def __init__(self, session, screen, interval):
        self.session = session
        self.screen = screen
        self.interval = interval
        self.editor = LineEditor()
        self.offset = 0
        self.status = ""
        self.error = False
        self.next_poll = 0.0

    def run(self):
        while True:
            if time.monotonic() >= self.next_poll:
                self._refresh()
            self.offset = self.screen.draw(self._view())
            key = self.screen.read_key((self.next_poll - time.monotonic()) * 1000)
            if key is not None and self.on_key(key_name(key)) == "quit":
                return

    def _refresh(self, force=False):
        try:
            new = self.session.refresh(force)
            if self.offset:
                self.offset += len(new)  # scrolled back: keep the same lines in view
        except AgentSyncError as exc:
            self._say(f"refresh failed: {exc}", error=True)
        self.next_poll = time.monotonic() + self.interval

    def _view(self):
        s = self.session
        peers = [a for a in (s.snap or {}).get("agents", []) if a["kind"] == "agent"]
        active = sum(1 for a in peers if a["status"] == "active")
        title = (f" agent-sync console \u00b7 {os.path.basename(s.ctx.root)} \u00b7 {active} active / "
                 f"{len(peers)} agents \u00b7 {clock()} ")
        return View(title=title, snap=s.snap, board=s.board, snap_age=time.monotonic() - s.snap_at,
                    items=s.items, offset=self.offset, editor=self.editor, status=self.status, error=self.error)

    def _say(self, text, error=False):
        self.status, self.error = text, error

    def on_key(self, key):
        """Act on one named key; return "quit" to leave."""
        if key is None:
            return None
        name, text = key
        editor = self.editor
        if name == "char":
            editor.insert(text)
        elif name == "enter":
            return self.submit(editor.submit())
        elif name == "ctrl-d" and not editor.text:
            return "quit"
        elif name == "interrupt":
            raise KeyboardInterrupt
        elif name == "tab":
            s = self.session
            matches = editor.complete(lambda before: commands.completions(
                before, s.names(), s.lock_paths(), s.task_refs()))
            if matches:
                self._say("  ".join(matches[:30]))
        elif name in ("pgup", "pgdn"):
            step = max(1, self.screen.feed_height - 1)
            self.offset = max(0, self.offset + (step if name == "pgup" else -step))
        elif name == "redraw":
            self.screen.win.clear()
        elif name != "resize":
            _EDITING.get(name, _ignore)(editor)
        return None

    def submit(self, line):
        if not line.strip():
            return None
        self._refresh()  # what agents did before this command lands above it in the feed
        self.session.note("op", PROMPT + line)
        outcome = self._execute(line)
        for text in outcome.lines:
            self.session.note("err" if outcome.error else "out", text)
        more = f"  (+{len(outcome.lines) - 1} lines in the feed)" if len(outcome.lines) > 1 else ""
        self._say(outcome.summary + more, outcome.error)
        self.offset = 0
        if outcome.quit:
            return "quit"
        self._refresh(force=True)
        return None

    def _execute(self, line):
        try:
            return commands.execute(self.session.ctx, line)
        except Exception as exc:  # noqa: BLE001 - the console's boundary: a bug must not kill it
            if os.environ.get("AGENT_SYNC_DEBUG"):
                raise
            return commands.Outcome([f"internal error: {type(exc).__name__}: {exc}"], error=True)


def _ignore(_editor):
    return None


_EDITING = {
    "backspace": LineEditor.backspace, "delete": LineEditor.delete, "ctrl-d": LineEditor.delete,
    "left": LineEditor.left, "right": LineEditor.right, "home": LineEditor.home, "end": LineEditor.end,
    "up": LineEditor.history_up, "down": LineEditor.history_down, "kill-start": LineEditor.kill_to_start,
    "kill-end": LineEditor.kill_to_end, "kill-word": LineEditor.delete_word,
}


def run(ctx, interval, name=None):
    """Open the console until the operator quits; the terminal is restored whatever happens."""
    for var in ("LINES", "COLUMNS"):  # if exported, curses would trust them over the real size
        os.environ.pop(var, None)
    try:
        curses.setupterm(fd=sys.stdout.fileno())
    except curses.error as exc:
        raise NoTerminal(f"cannot drive this terminal ({exc}); check TERM, or use `agent-sync watch`") from None
    session = Session(ctx)
    try:
        session.open(name)
        session.refresh(force=True)
        with stopping.interrupt_on_termination():
            try:
                locale.setlocale(locale.LC_ALL, "")
            except locale.Error:
                pass
            try:
                curses.wrapper(lambda win: _loop(win, session, interval))
            except KeyboardInterrupt:
                pass
    finally:
        session.close()


def _loop(win, session, interval):
    if hasattr(curses, "set_escdelay"):
        curses.set_escdelay(25)
    Console(session, Screen(win), interval).run()
