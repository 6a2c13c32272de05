"""The console's logic without a terminal: feed, commands, completion, editor, layout, registry."""

import os
import re
import time

import pytest
from conftest import TOOL_VARS

from agent_sync.core import agents, locks, lockspec, messages, tasks
from agent_sync.console import commands, feed, panes, registry
from agent_sync.console.cells import clip, width, wrap
from agent_sync.console.editor import LineEditor
from agent_sync.core.context import Context
from agent_sync.core.identity import OPERATOR, Identity

HOSTILE = "ev\x1b[2Jil\x1b]2;pwned\x07\nname\x9b31m\x07"


@pytest.fixture
def core(repo, monkeypatch):
    """Contexts on the test repo, in-process, one per agent id."""
    for name in list(os.environ):
        if name.startswith(TOOL_VARS):
            monkeypatch.delenv(name)
    opened = []

    def make(agent_id, register=True):
        ctx = Context(root=str(repo.path), cwd=str(repo.path), me=Identity(agent_id, "test"))
        opened.append(ctx)
        if register:
            if agent_id == OPERATOR:
                agents.set_state(ctx, "active")
            else:
                agents.register(ctx, agent_id)
        return ctx

    yield make
    for ctx in opened:
        ctx.close()


# ---------------------------------------------------------------------------
# Feed


def test_feed_item_strips_control_bytes():
    item = feed.FeedItem(0, "msg", HOSTILE, "body\x1b[1;1Hmoved\r\nnext\x1b[31m")
    assert item.who == "evil / name"
    assert item.text == "bodymoved  / next"
    line = feed.format_line(item)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in line), repr(line)


def test_feed_line_columns():
    item = feed.FeedItem(0, "lock", "backend", "released src/api/auth.py")
    line = feed.format_line(item, clock=lambda _at: "12:01:09")
    assert line == "12:01:09 lock backend      released src/api/auth.py"


def test_activity_rows_map_to_kinds():
    def row(kind, message, path=None):
        return {"type": kind, "message": message, "path": path, "created_at": 1.0, "agent_name": "a"}

    assert feed.from_activity(row("presence", "joined")) is None  # presence comes from status diffs
    assert feed.from_activity(row("message", "#4 to all")) is None  # sends come from the message table
    assert feed.from_activity(row("message", "acknowledged #4")).kind == "msg"
    assert feed.from_activity(row("lock", "locked a.py")).kind == "lock"
    assert feed.from_activity(row("task", "created #1 t")).kind == "task"
    assert feed.from_activity(row("decision", "use sqlite")).text == "decided: use sqlite"
    assert feed.from_activity(row("edit", "Edit a.py", "a.py")).text == "Edit a.py"
    assert feed.from_activity(row("test", "suite green", "t.py")).text == "test: suite green (t.py)"


def test_message_items_show_sender_and_recipient():
    row = {"kind": "directive", "recipient": "backend", "to_key": "backend", "body": "stop\nnow",
           "sender_name": "operator", "created_at": 2.0}
    item = feed.from_message(row)
    assert (item.kind, item.who) == ("dir", "operator")
    assert item.text == "\u2192backend [directive]: stop / now"
    row.update(kind="message", to_key="operator", recipient="operator")
    assert feed.from_message(row).strong


def test_presence_changes_between_ticks():
    f = feed.Feed()
    assert f.presence([{"id": "a", "name": "alice", "status": "active"}], now=1) == []  # baseline
    items = f.presence([{"id": "a", "name": "alice", "status": "stale"},
                        {"id": "b", "name": "bob", "status": "active"}], now=2)
    assert [(i.who, i.text) for i in items] == [("alice", "went stale"), ("bob", "joined [active]")]
    items = f.presence([{"id": "a", "name": "alice", "status": "active"},
                        {"id": "b", "name": "bob", "status": "active"}], now=3)
    assert [(i.who, i.text) for i in items] == [("alice", "is back [active] (was stale)")]


def test_feed_polls_only_new_rows(core):
    alice = core("alice")
    f = feed.Feed(backlog=5)
    first = f.poll(alice)
    assert len(first) <= 5
    assert f.poll(alice) == []
    locks.acquire(alice, [lockspec.parse(alice, "a.py")], reason="why")
    messages.send(alice, "all", "hello")
    texts = [(i.kind, i.text) for i in f.poll(alice)]
    assert texts == [("lock", "locked a.py (why)"), ("msg", "\u2192all: hello")]
    assert f.poll(alice) == []


def test_feed_notes_a_gap_when_a_poll_overflows(core):
    alice = core("alice")
    f = feed.Feed(backlog=0, batch=3)
    assert f.poll(alice) == []
    for n in range(5):
        messages.send(alice, "all", f"m{n}")
    items = f.poll(alice)
    assert items[0].kind == "gap"
    assert [i.text for i in items if i.kind == "msg"] == ["\u2192all: m2", "\u2192all: m3", "\u2192all: m4"]


# ---------------------------------------------------------------------------
# Commands


def test_words_and_free_text():
    assert commands.take_word('  send "a b" rest of it') == ("send", ' "a b" rest of it')
    assert commands.take_word('"a b" rest') == ("a b", " rest")
    assert commands.free_text(' "freeze feature work" ') == "freeze feature work"
    assert commands.free_text("it's done") == "it's done"
    with pytest.raises(commands.UsageError):
        commands.take_word('"unclosed')


def test_send_and_directive(core):
    op = core(OPERATOR)
    peers = {name: core(name) for name in ("alice", "bob", "carol")}
    out = commands.execute(op, "send alice hello there")
    assert not out.error and out.summary.startswith("sent #")
    (msg,) = messages.pending(peers["alice"])
    assert (msg["sender"], msg["body"]) == (OPERATOR, "hello there")

    out = commands.execute(op, 'directive all "freeze feature work"')
    assert out.summary == "directive -> 3 active agent(s)", out.lines
    for ctx in peers.values():
        directed = [m for m in messages.pending(ctx) if m["kind"] == "directive"]
        assert [(m["to_key"], m["body"]) for m in directed] == [(ctx.me.id, "freeze feature work")]


def test_lock_and_unlock_any_lock(core):
    op, alice = core(OPERATOR), core("alice")
    locks.acquire(alice, [lockspec.parse(alice, "a.py")], reason="mine")
    assert commands.execute(op, "lock a.py").error  # held by alice
    out = commands.execute(op, "unlock a.py")
    assert out.lines == ["unlocked a.py"], out.lines
    out = commands.execute(op, "lock src/api.py refactor incoming")
    assert re.fullmatch(r"locked src/api\.py \(until \S+Z\)", out.summary), out.lines
    (row,) = locks.listing(op)
    assert (row["owner"], row["reason"]) == (OPERATOR, "refactor incoming")


def test_task_commands(core):
    op, alice = core(OPERATOR), core("alice")
    assert commands.execute(op, "task new Write the docs :: all of them").summary.startswith("created #1")
    tasks.claim(alice, "1")
    assert "[blocked]" in commands.execute(op, "task block 1 :: waiting on the API").summary
    assert tasks.get(op, 1)["block_reason"] == "waiting on the API"
    assert "[open]" in commands.execute(op, "task reopen #1").summary
    assert "[done]" in commands.execute(op, "task done Write the docs").summary
    commands.execute(op, "task new Other")
    assert "[cancelled]" in commands.execute(op, "task cancel 2").summary
    assert commands.execute(op, "task block 2").error  # no `:: reason`


def test_decision_status_msgs_help(core):
    op, alice = core(OPERATOR), core("alice")
    assert commands.execute(op, "decision Use SQLite").summary == "recorded decision #1"
    messages.send(alice, "operator", "ping")
    lines = commands.execute(op, "status").lines
    assert lines[0] == "agents (1 active / 1 total):"  # the operator is not counted
    assert any(line.startswith("tasks: ") for line in lines)
    assert commands.execute(op, "msgs").lines[-1].endswith("alice \u2192 operator: ping")
    helped = "\n".join(commands.execute(op, "help").lines)
    for name in commands.COMMANDS:
        assert name in helped


@pytest.mark.parametrize("line", ["frobnicate", "send", "send alice", "lock", "task", "task fly 1",
                                  "send nobody hi", "unlock free.py", "task done 99", "msgs x", 'send "x'])
def test_errors_become_outcomes(core, line):
    op = core(OPERATOR)
    out = commands.execute(op, line)
    assert out.error and out.lines and not out.quit, line


@pytest.mark.parametrize("line", ["quit", "q", "exit", "QUIT"])
def test_quit_words(core, line):
    assert commands.execute(core(OPERATOR), line).quit


def test_blank_line_does_nothing(core):
    out = commands.execute(core(OPERATOR), "   ")
    assert out.lines == [] and not out.error and not out.quit


def test_completions():
    names = ["alice", "bob"]
    assert commands.completions("se") == ["send"]
    assert "directive" in commands.completions("")
    assert commands.completions("send ", names) == ["alice", "all", "bob"]
    assert commands.completions("directive a", names) == ["alice", "all"]
    assert commands.completions("unlock sr", paths=["src/a.py", "docs/"]) == ["src/a.py"]
    assert commands.completions("task b") == ["block"]
    assert commands.completions("task done #", task_refs=["#1", "#2"]) == ["#1", "#2"]
    assert commands.completions("send alice he", names) == []


# ---------------------------------------------------------------------------
# Line editor


def test_editor_editing_and_history():
    ed = LineEditor()
    ed.insert("snd")
    ed.left(), ed.left()
    ed.insert("e")
    ed.end(), ed.backspace(), ed.insert("d")
    ed.home(), ed.delete(), ed.insert("S")
    assert (ed.text, ed.cursor) == ("Send", 1)
    ed.end(), ed.insert(" x\x1b[2J")
    assert ed.text == "Send x[2J"  # control characters never enter the line
    ed.kill_to_start()
    ed.insert("first")
    assert ed.submit() == "first"
    ed.insert("second word")
    ed.delete_word()
    assert ed.text == "second "
    ed.submit()
    ed.insert("draft")
    ed.history_up()
    assert ed.text == "second "
    ed.history_up(), ed.history_up()
    assert ed.text == "first"
    ed.history_down(), ed.history_down()
    assert ed.text == "draft"


def test_editor_completion():
    ed = LineEditor()
    ed.insert("se")
    assert ed.complete(lambda before: commands.completions(before)) == []
    assert ed.text == "send "
    ed.insert("a")
    matches = ed.complete(lambda before: commands.completions(before, ["alice", "albert"]))
    assert ed.text == "send al" and matches == ["albert", "alice", "all"]


# ---------------------------------------------------------------------------
# Layout and panes


def _overlap(a, b):
    return a.y < b.y + b.h and b.y < a.y + a.h and a.x < b.x + b.w and b.x < a.x + a.w


@pytest.mark.parametrize("size", [(24, 80), (60, 200), (40, 120), (12, 40), (30, 119)])
def test_layout_fits_and_does_not_overlap(size):
    h, w = size
    rects, _seps = panes.layout(h, w, agents_n=5, locks_n=5, tasks_n=9)
    placed = list(rects.values())
    for r in placed:
        assert r.y >= 0 and r.x >= 0 and r.y + r.h <= h and r.x + r.w <= w and r.h > 0 and r.w > 0, (size, r)
    for i, a in enumerate(placed):
        for b in placed[i + 1:]:
            assert not _overlap(a, b), (size, a, b)
    assert rects["prompt"].y == h - 1 and rects["feed"].h >= 3
    assert ("tasks" in rects) == (h >= 13)


def test_layout_refuses_a_tiny_terminal():
    assert panes.layout(5, 80, 1, 1, 1) is None
    assert panes.layout(24, 20, 1, 1, 1) is None


def test_fit_groups_shares_rows():
    groups = [(["A"], ["a1", "a2", "a3"]), (["B"], ["b1"]), (["C"], ["c1", "c2"])]
    assert panes.fit_groups(groups, 6) == [["A"], "a1", ["B"], "b1", ["C"], "c1"]
    assert panes.fit_groups(groups, 5) == [["A"], "a1", "a2", ["B"], "b1"]
    assert panes.fit_groups(groups, 2) == [["A"], "a1"]  # a heading always comes with a task


def test_countdown_and_ago():
    assert panes.countdown(3599) == "59:59"
    assert panes.countdown(3900) == "1h05m"
    assert panes.countdown(-5) == "00:00"
    assert panes.ago(42) == "42s" and panes.ago(7200) == "2h"


def test_feed_rows_wrap_and_scroll():
    items = [feed.FeedItem(0, "act", "a", f"line {n} " + "x" * 60) for n in range(10)]
    rows, offset = panes.feed_rows(items, 60, 5, offset=0, clock=lambda _at: "00:00:00")
    assert offset == 0 and len(rows) == 5
    texts = ["".join(text for text, _style in row) for row in rows]
    assert "line 9" in texts[-3] and texts[-1].startswith(" " * 27)  # wrapped under the text column
    assert all(width(text) <= 60 for text in texts)
    rows, offset = panes.feed_rows(items, 60, 5, offset=10_000, clock=lambda _at: "00:00:00")
    assert "line 0" in "".join(text for text, _style in rows[0]) and offset > 0


def test_cells_handle_wide_characters():
    assert width("日本") == 4
    assert clip("日本語のテキスト", 7) == "日本語\u2026"
    assert all(width(line) <= 10 for line in wrap("日本語のテキストです" * 3, 10, indent=2))


# ---------------------------------------------------------------------------
# Console registry (several consoles, one operator)


def test_last_console_out_is_the_one_that_sees_no_others(tmp_path):
    root = str(tmp_path)
    one, two = registry.Registration(root), registry.Registration(root)
    one.start()
    two.start()
    assert one.stop() == 1
    assert two.stop() == 0


def test_a_crashed_console_stops_counting(tmp_path):
    root = str(tmp_path)
    dead = registry.Registration(root)
    dead.start()
    old = time.time() - registry.LIVE_FOR - 5
    os.utime(dead.path, (old, old))
    live = registry.Registration(root)
    live.start()
    assert live.stop() == 0
    assert not os.path.exists(dead.path)


def test_pane_rows_clean_values_before_aligning_them():
    doc = {"id": "evil", "name": HOSTILE, "role": "r\x1b[31mole", "kind": "agent", "status": "active",
           "current_task": None, "task_title": None, "seen_ago": 3}
    text = "".join(t for t, _style in panes.agent_rows([doc], 80)[0])
    assert text.startswith("evil / name    active  3s   role")
    lock = {"path": "a\x1b[2J.py", "owner_name": HOSTILE, "reason": "x\x07y", "mode": "exclusive",
            "enforced": True, "expires_in": 61}
    text = "".join(t for t, _style in panes.lock_rows([lock], 80)[0])
    assert text == " 01:01 a.py \u2192 evil / name  xy"


def test_feed_times_show_the_date_once_not_today():
    now = time.mktime((2026, 12, 2, 15, 0, 0, 0, 0, -1))
    assert feed.local_clock(now - 3600, now=now) == "14:00:00"
    assert feed.local_clock(now - 86400, now=now) == "2026-12-01 15:00:00"
    assert feed.local_clock(now + 86400, now=now) == "2026-12-03 15:00:00"
