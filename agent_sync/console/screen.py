"""Drawing with curses, and naming the keys the console reacts to.

Every string reaches the terminal through `Screen.put`, which strips control,
ANSI and C1 bytes first: whatever an agent wrote, it cannot move the cursor,
change colours or retitle the window.
"""

import curses
import time

from ..core.sanitize import strip_controls
from . import panes
from .cells import clip, width

PROMPT = "operator> "
HINTS = "Tab completes \u00b7 \u2191\u2193 history \u00b7 PgUp/PgDn scroll \u00b7 help \u00b7 quit"
ASCII = str.maketrans({"\u2192": "->", "\u2026": "...", "\u00b7": "-", "\u2191": "^", "\u2193": "v"})

# style: (colour or None, attributes)
STYLES = {
    "title": (None, curses.A_REVERSE | curses.A_BOLD), "header": (None, curses.A_BOLD),
    "dim": (None, curses.A_DIM), "time": (None, curses.A_DIM), "name": (None, curses.A_BOLD),
    "plain": (None, 0), "path": (None, 0), "countdown": (curses.COLOR_YELLOW, 0),
    "active": (curses.COLOR_GREEN, curses.A_BOLD), "stale": (curses.COLOR_YELLOW, curses.A_BOLD),
    "idle": (curses.COLOR_CYAN, 0), "offline": (None, curses.A_DIM),
    "act": (None, 0), "msg": (curses.COLOR_CYAN, 0), "dir": (curses.COLOR_MAGENTA, curses.A_BOLD),
    "who": (curses.COLOR_GREEN, 0), "lock": (curses.COLOR_YELLOW, 0), "task": (curses.COLOR_BLUE, curses.A_BOLD),
    "dec": (None, curses.A_BOLD), "op": (None, curses.A_BOLD), "out": (None, 0),
    "err": (curses.COLOR_RED, curses.A_BOLD), "gap": (None, curses.A_DIM),
    "strong": (curses.COLOR_CYAN, curses.A_BOLD), "error": (curses.COLOR_RED, curses.A_BOLD),
    "ok": (curses.COLOR_GREEN, 0),
    "task_in_progress": (curses.COLOR_GREEN, curses.A_BOLD), "task_open": (None, curses.A_BOLD),
    "task_blocked": (curses.COLOR_YELLOW, curses.A_BOLD), "task_done": (None, curses.A_DIM),
}

_CHAR_KEYS = {
    "\n": "enter", "\r": "enter", "\t": "tab", "\x7f": "backspace", "\b": "backspace",
    "\x01": "home", "\x05": "end", "\x02": "left", "\x06": "right", "\x04": "ctrl-d",
    "\x15": "kill-start", "\x0b": "kill-end", "\x17": "kill-word", "\x0c": "redraw",
    "\x10": "up", "\x0e": "down", "\x03": "interrupt",
}
_CODE_KEYS = {
    curses.KEY_ENTER: "enter", curses.KEY_BACKSPACE: "backspace", curses.KEY_DC: "delete",
    curses.KEY_LEFT: "left", curses.KEY_RIGHT: "right", curses.KEY_UP: "up", curses.KEY_DOWN: "down",
    curses.KEY_HOME: "home", curses.KEY_END: "end", curses.KEY_PPAGE: "pgup", curses.KEY_NPAGE: "pgdn",
    curses.KEY_RESIZE: "resize",
}


def key_name(key):
    """('char', text) for typed text, (name, None) for a known key, None for the rest."""
    if isinstance(key, str):
        if key in _CHAR_KEYS:
            return _CHAR_KEYS[key], None
        return ("char", key) if key.isprintable() else None
    name = _CODE_KEYS.get(key)
    return (name, None) if name else None


class View:
    """Everything one frame shows."""

    __slots__ = ("board", "editor", "error", "items", "offset", "snap", "snap_age", "status", "title")

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))


class Screen:
    """The curses window: colours, one `draw` per frame, and key reading."""

    def __init__(self, win):
        self.win = win
        self.attrs = {}
        encoding = (getattr(win, "encoding", "") or "").lower().replace("-", "").replace("_", "")
        self.encoding = getattr(win, "encoding", None) or "ascii"
        self.unicode = encoding == "utf8"
        self.feed_height = 1
        self._init_colours()
        win.keypad(True)
        try:
            curses.curs_set(1)
        except curses.error:
            pass

    def _init_colours(self):
        colours = curses.has_colors()
        if colours:
            try:
                curses.use_default_colors()
                background = -1
            except curses.error:
                background = curses.COLOR_BLACK
        pairs = {}
        for style, (colour, attr) in STYLES.items():
            if colours and colour is not None:
                if colour not in pairs:
                    pairs[colour] = len(pairs) + 1
                    curses.init_pair(pairs[colour], colour, background)
                attr |= curses.color_pair(pairs[colour])
            self.attrs[style] = attr

    # -- primitives ------------------------------------------------------

    def _safe(self, text):
        text = strip_controls(text)
        if not self.unicode:
            text = text.translate(ASCII).encode(self.encoding, "replace").decode(self.encoding)
        return text

    def put(self, y, x, text, style="plain", cells=None):
        """Draw `text` (sanitised, clipped to `cells`) and return the cells used."""
        h, w = self.win.getmaxyx()
        if not (0 <= y < h and 0 <= x < w):
            return 0
        room = w - x if cells is None else min(cells, w - x)
        text = clip(self._safe(text), room)
        try:
            self.win.addstr(y, x, text, self.attrs.get(style, 0))
        except curses.error:
            pass  # writing the bottom-right cell moves the cursor off-screen: harmless
        return width(text)

    def put_row(self, y, x, segments, cells):
        used = 0
        for text, style in segments:
            if used >= cells:
                break
            used += self.put(y, x + used, text, style, cells - used)
        return used

    def header(self, rect, title):
        try:
            self.win.hline(rect.y, rect.x, curses.ACS_HLINE, rect.w)
        except curses.error:
            pass
        self.put(rect.y, rect.x + 1, f" {title} ", "header", rect.w - 2)

    def pane(self, rect, title, rows):
        self.header(rect, title)
        room = rect.h - 1
        if len(rows) > room > 0:
            rows = rows[: room - 1] + [[(f"\u2026 +{len(rows) - room + 1} more", "dim")]]
        for i, row in enumerate(rows[:room]):
            self.put_row(rect.y + 1 + i, rect.x, row, rect.w)

    # -- one frame -------------------------------------------------------

    def draw(self, view):
        """Redraw everything; return the feed scroll offset actually used."""
        self.win.erase()
        h, w = self.win.getmaxyx()
        snap, board = view.snap or {"agents": [], "locks": []}, view.board
        task_n = panes.count_task_rows(board) if board else 0
        placed = panes.layout(h, w, len(snap["agents"]), len(snap["locks"]), task_n)
        if placed is None:
            self.put(0, 0, "terminal too small", "error")
            self.win.refresh()
            return view.offset
        rects, seps = placed
        self.put(0, 0, " " * w, "title")
        self.put(0, 0, view.title, "title", w)
        self._top(rects, seps, snap, board, view.snap_age or 0.0)
        offset = self._feed(rects["feed"], view)
        self._status(rects["status"], view)
        self._prompt(rects["prompt"], view.editor)
        self.win.noutrefresh()
        curses.doupdate()
        return offset

    def _top(self, rects, seps, snap, board, age):
        if "agents" not in rects:
            return
        for x, y, n in seps:
            try:
                self.win.vline(y, x, curses.ACS_VLINE, n)
            except curses.error:
                pass
        a, lk, t = rects["agents"], rects["locks"], rects["tasks"]
        self.pane(a, panes.agents_title(snap["agents"]), panes.agent_rows(snap["agents"], a.w))
        self.pane(lk, panes.locks_title(snap["locks"]), panes.lock_rows(snap["locks"], lk.w, age))
        if board:
            self.pane(t, panes.tasks_title(board), panes.task_rows(board, t.h - 1))

    def _feed(self, rect, view):
        hint = f"scrolled back {view.offset} lines, PgDn to follow" if view.offset else "PgUp/PgDn scroll"
        self.header(rect, f"Feed \u00b7 {hint}")
        self.feed_height = max(1, rect.h - 1)
        rows, offset = panes.feed_rows(view.items, rect.w, self.feed_height, view.offset)
        for i, row in enumerate(rows):
            self.put_row(rect.y + 1 + i, rect.x, row, rect.w)
        return offset

    def _status(self, rect, view):
        if view.status:
            self.put(rect.y, 0, view.status, "error" if view.error else "ok", rect.w)
        else:
            self.put(rect.y, 0, HINTS, "dim", rect.w)

    def _prompt(self, rect, editor):
        used = self.put(rect.y, 0, PROMPT, "header")
        room = max(1, rect.w - used - 1)
        start = 0
        while width(editor.text[start: editor.cursor]) > room - 1:
            start += 1
        self.put(rect.y, used, editor.text[start:], "plain", room)
        try:
            self.win.move(rect.y, used + width(self._safe(editor.text[start: editor.cursor])))
        except curses.error:
            pass

    def read_key(self, timeout_ms):
        """The next key, or None when `timeout_ms` passes first."""
        self.win.timeout(max(0, int(timeout_ms)))
        try:
            return self.win.get_wch()
        except curses.error:
            return None


def clock():
    return time.strftime("%H:%M:%S")
