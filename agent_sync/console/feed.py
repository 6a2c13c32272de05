"""The live feed: activity and messages polled by last-seen id, plus presence changes.

No curses here. `watch` prints these items as lines; the console draws them.
Each poll asks only for rows newer than the last one seen (at most BATCH of
them), so its cost does not grow with the history.
"""

import time

from ..core.sanitize import one_line

BACKLOG = 40  # items shown from history when a view opens
BATCH = 500  # most rows of each table read by one poll
TEXT_LIMIT = 4000
WHO_WIDTH = 12
ARROW = "\u2192"

# Activity types whose rows another source already reports: sends come from the
# message table (with their text), presence from comparing agent statuses.
_COVERED_ELSEWHERE = ("presence",)
_TAGS = {"lock": "lock", "task": "task", "decision": "dec", "message": "msg"}


class FeedItem:
    """One feed line. Every agent-written field is stripped of control bytes here."""

    __slots__ = ("at", "kind", "strong", "text", "who")

    def __init__(self, at, kind, who, text, strong=False):
        self.at = at
        self.kind = kind
        self.who = one_line(who or "", 60)
        self.text = one_line(text or "", TEXT_LIMIT)
        self.strong = strong

    def __repr__(self):
        return f"FeedItem({self.kind!r}, {self.who!r}, {self.text!r})"


def from_activity(row):
    """The item for an activity row, or None when another source reports it better."""
    kind, text = row["type"], row["message"] or ""
    if kind in _COVERED_ELSEWHERE or (kind == "message" and text.startswith("#")):
        return None
    tag = _TAGS.get(kind, "act")
    if tag == "act" and not text.lower().startswith(kind.lower()):
        text = f"{kind}: {text}"
    if tag == "dec":
        text = f"decided: {text}"
    if row["path"] and row["path"] not in text:
        text = f"{text} ({row['path']})"
    return FeedItem(row["created_at"], tag, row["agent_name"], text)


def from_message(row):
    tag = "dir" if row["kind"] == "directive" else "msg"
    label = " [directive]" if tag == "dir" else ""
    text = f"{ARROW}{one_line(row['recipient'], 60)}{label}: {row['body']}"
    return FeedItem(row["created_at"], tag, row["sender_name"], text, strong=row["to_key"] == "operator")


def presence_change(before, after):
    """The words for an agent's status moving from `before` (None: new) to `after`."""
    if before is None:
        return f"joined [{after}]"
    if after == "active":
        return f"is back [active] (was {before})"
    return f"went {after}"


class Feed:
    """Remembers the last activity and message ids seen and each agent's last status."""

    def __init__(self, backlog=BACKLOG, batch=BATCH):
        self.backlog = backlog
        self.batch = batch
        self.after_activity = None
        self.after_message = None
        self.statuses = None

    def poll(self, ctx):
        """New activity and messages since the last poll, oldest first."""
        first = self.after_activity is None
        limit = max(self.backlog, 1) if first else self.batch
        acts = ctx.store.recent_activity(limit=limit, after_id=self.after_activity or 0)
        msgs = ctx.store.recent_messages(limit=limit, after_id=self.after_message or 0)
        self.after_activity = acts[0]["id"] if acts else (self.after_activity or 0)
        self.after_message = msgs[0]["id"] if msgs else (self.after_message or 0)
        items = [i for i in map(from_activity, reversed(acts)) if i is not None]
        items += [from_message(m) for m in reversed(msgs)]
        items.sort(key=lambda item: item.at)
        if first:
            return items[-self.backlog:] if self.backlog else []
        if len(acts) == limit or len(msgs) == limit:
            note = f"more than {limit} entries arrived since the last poll; older ones were skipped"
            items.insert(0, FeedItem(ctx.now, "gap", "", note))
        return items

    def presence(self, agent_docs, now=None):
        """Items for agents that joined or changed status since the previous call."""
        now = time.time() if now is None else now
        current = {a["id"]: (a["status"], a["name"]) for a in agent_docs}
        previous, self.statuses = self.statuses, current
        if previous is None:
            return []
        items = []
        for agent_id, (status, name) in current.items():
            before = previous.get(agent_id, (None, None))[0]
            if before != status:
                items.append(FeedItem(now, "who", name, presence_change(before, status)))
        return items


def local_clock(at, now=None):
    """`HH:MM:SS` today; a line from another day also shows its date (after a clock jump, say)."""
    stamp = time.localtime(at)
    if stamp[:3] == time.localtime(time.time() if now is None else now)[:3]:
        return time.strftime("%H:%M:%S", stamp)
    return time.strftime("%Y-%m-%d %H:%M:%S", stamp)


def utc_stamp(at):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def columns(item, clock=local_clock):
    """(time, tag, who, text): the four columns of a feed line."""
    return clock(item.at), f"{item.kind:<4}", f"{item.who:<{WHO_WIDTH}}", item.text


def format_line(item, clock=local_clock):
    """One plain line: `12:01:03 msg  backend      ->all: text`."""
    stamp, tag, who, text = columns(item, clock)
    return f"{stamp} {tag} {who} {text}".rstrip()
