"""What each pane shows and where it goes, as plain data (no curses).

A row is a list of (text, style) segments; `screen` maps style names to
colours. `layout` places the panes for any terminal size. Agent-written
values are cleaned (`_t`) before they are measured, padded or clipped.
"""

from collections import namedtuple

from ..core.sanitize import one_line
from .cells import clip, pad, width, wrap
from .feed import ARROW, columns, local_clock

Rect = namedtuple("Rect", "y x h w")
THREE_COLUMNS_FROM = 120  # terminal width at which agents, locks and tasks sit side by side
MIN_TOP_BODY = 10  # body rows below which only the feed is shown
TOO_SMALL = (6, 30)  # fewer rows or columns: just say so

TASK_HEADINGS = (("in_progress", "in progress"), ("open", "open"), ("blocked", "blocked"), ("done", "done"))


def _t(value, limit=300):
    """An agent-written value as one control-free line."""
    return one_line(str(value) if value is not None else "", limit)


# ---------------------------------------------------------------------------
# Layout


def layout(h, w, agents_n, locks_n, tasks_n):
    """Rects for each pane, and the columns where vertical separators go; None if too small."""
    if h < TOO_SMALL[0] or w < TOO_SMALL[1]:
        return None
    rects = {"title": Rect(0, 0, 1, w), "status": Rect(h - 2, 0, 1, w), "prompt": Rect(h - 1, 0, 1, w)}
    body = h - 3
    seps = []
    top = 0
    if body >= MIN_TOP_BODY:
        if w >= THREE_COLUMNS_FROM:
            want = 1 + max(agents_n, locks_n, tasks_n, 1)
            top = max(4, min(want, int(body * 0.45)))
            wa, wl = int(w * 0.34), int(w * 0.33)
            rects["agents"] = Rect(1, 0, top, wa)
            rects["locks"] = Rect(1, wa + 1, top, wl)
            rects["tasks"] = Rect(1, wa + wl + 2, top, w - wa - wl - 2)
            seps = [(wa, 1, top), (wa + wl + 1, 1, top)]
        else:
            want = max(1 + agents_n, 2 + max(locks_n, 1) + max(tasks_n, 1))
            top = max(5, min(want, int(body * 0.45)))
            wa = w // 2
            locks_h = _split(top, 1 + max(locks_n, 1), 1 + max(tasks_n, 1))
            rects["agents"] = Rect(1, 0, top, wa)
            rects["locks"] = Rect(1, wa + 1, locks_h, w - wa - 1)
            rects["tasks"] = Rect(1 + locks_h, wa + 1, top - locks_h, w - wa - 1)
            seps = [(wa, 1, top)]
    rects["feed"] = Rect(1 + top, 0, body - top, w)
    return rects, seps


def _split(total, need_a, need_b):
    """Rows for the first of two stacked panes: what it needs, leaving the second a fair share."""
    if need_a + need_b <= total:
        return need_a
    return max(2, min(need_a, total - max(2, min(need_b, total // 2))))


# ---------------------------------------------------------------------------
# Agents


def ago(seconds):
    seconds = int(max(0, seconds))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def agents_title(agent_docs):
    peers = [a for a in agent_docs if a["kind"] == "agent"]
    active = sum(1 for a in peers if a["status"] == "active")
    return f"Agents {active} active / {len(peers)}"


def agent_rows(agent_docs, cells):
    """Name, status, last seen, role (when wide enough) and current task."""
    order = sorted(agent_docs, key=lambda a: (a["kind"] == "operator", a["status"] == "offline"))
    name_w = 14 if cells >= 50 else 10
    rows = []
    for a in order:
        name = _t(a["name"])
        role = "(operator)" if a["kind"] == "operator" else _t(a["role"])
        task = f"#{a['current_task']} {_t(a['task_title'])}" if a["current_task"] else ""
        row = [(pad(name, name_w) + " ", "name"), (pad(a["status"], 7) + " ", a["status"]),
               (pad(ago(a["seen_ago"]), 4) + " ", "dim")]
        if cells >= 70:
            row.append((pad(role, 16) + " ", "dim"))
            row.append((task, "plain"))
        else:
            row.append((task or role, "plain" if task else "dim"))
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# Locks


def countdown(seconds):
    """59:58 under an hour, then 1h05m, then 2d."""
    seconds = int(max(0, seconds))
    if seconds < 3600:
        return f"{seconds // 60:02d}:{seconds % 60:02d}"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d"


def locks_title(lock_docs):
    held = sum(1 for lk in lock_docs if lk["enforced"])
    return f"Locks {len(lock_docs)}" + (f" ({len(lock_docs) - held} not held)" if held < len(lock_docs) else "")


def lock_rows(lock_docs, cells, elapsed=0.0):
    """`countdown path -> owner  reason`, dimmed when the owner no longer holds it."""
    rows = []
    for lk in lock_docs:
        held = lk["enforced"]
        owner = _t(lk["owner_name"])
        extra = (" (shared)" if lk["mode"] == "shared" else "") + (" (auto lease)" if lk.get("auto_lease") else "")
        extra += "" if held else " (not held)"
        path_w = max(12, cells - 10 - min(width(owner), 12))  # the path first, then its owner, then why
        rows.append([
            (f"{countdown(lk['expires_in'] - elapsed):>6} ", "countdown" if held else "dim"),
            (clip(_t(lk["path"]), path_w), "path" if held else "dim"),
            (f" {ARROW} ", "dim"),
            (owner, "name" if held else "dim"),
            (extra + ("  " + _t(lk["reason"]) if lk["reason"] else ""), "dim"),
        ])
    return rows


# ---------------------------------------------------------------------------
# Tasks


def tasks_title(board):
    return f"Tasks {sum(board['counts'][state] for state, _label in TASK_HEADINGS)}"


def task_rows(board, rows_available):
    """Each non-empty state's heading and tasks, sharing the rows fairly between states."""
    groups = []
    for state, label in TASK_HEADINGS:
        items = board["tasks"][state]
        if items:
            heading = [(f"{label} ({board['counts'][state]})", f"task_{state}")]
            groups.append((heading, [_task_row(t) for t in items]))
    return fit_groups(groups, rows_available)


def _task_row(t):
    row = [(f"  #{t['id']} ", "dim"), (f"P{t['priority']} ", "dim"), (_t(t["title"]), "plain")]
    if t["owner"]:
        row.append((" @" + _t(t["owner_name"] or t["owner"]), "name"))
    if t["status"] == "blocked" and t["block_reason"]:
        row.append((" - " + _t(t["block_reason"]), "dim"))
    return row


def fit_groups(groups, rows):
    """Groups in order while each fits its heading and one item; then one more item each per round."""
    kept, budget = [], rows
    for heading, items in groups:
        if budget < 2:
            break
        kept.append([heading, items, 1])
        budget -= 2
    while budget > 0 and any(shown < len(items) for _heading, items, shown in kept):
        for group in kept:
            if budget and group[2] < len(group[1]):
                group[2] += 1
                budget -= 1
    return [row for heading, items, shown in kept for row in [heading, *items[:shown]]]


def count_task_rows(board):
    return sum(1 + len(items) for items in board["tasks"].values() if items)


# ---------------------------------------------------------------------------
# Feed


def item_rows(item, cells, clock=local_clock):
    """One feed item as one or more rows; long text wraps under its own column."""
    stamp, tag, who, text = columns(item, clock)
    style = "strong" if item.strong else item.kind
    head = [(stamp + " ", "time"), (tag + " ", item.kind), (who + " ", "name")]
    indent = width(stamp) + width(tag) + width(who) + 3
    if cells - indent < 16:
        return [head + [(text, style)]]
    chunks = wrap(text, cells - indent)
    return [head + [(chunks[0], style)]] + [[(" " * indent, "plain"), (chunk, style)] for chunk in chunks[1:]]


def feed_rows(items, cells, height, offset, clock=local_clock):
    """The rows visible `offset` rows above the newest, and the offset actually used."""
    blocks, count = [], 0
    for item in reversed(items):
        blocks.append(item_rows(item, cells, clock))
        count += len(blocks[-1])
        if count >= offset + height:
            break
    rows = [row for block in reversed(blocks) for row in block]
    offset = max(0, min(offset, len(rows) - height))
    end = len(rows) - offset
    return rows[max(0, end - height): end], offset
