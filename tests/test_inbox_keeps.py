"""Listing the inbox never consumes a message (issue 12, "inbox must not consume messages").

A message is settled for an agent only by a hook's push (delivered), `read-message`,
`ack`, or `inbox --mark-read` once the listing was fully written. A listing that went
to a full disk or into a pipe that closed early marks nothing, so the next push still
brings every message.
"""

import subprocess
import sys

import conftest
from conftest import clean_env
from test_hooks_contract import ALICE, BOB, Session, context_of


def pair(repo):
    return Session(repo, ALICE, "alice", "backend"), Session(repo, BOB, "bob", "frontend")


def send_many(bob, count, size=0):
    for i in range(count):
        bob.ok("send", "--to", "alice", "--message", f"note {i} " + "x" * size)


def shell(repo, session, command):
    """`agent-sync ...` inside a shell line, as a person types it (pipes, redirections)."""
    env = clean_env(repo.home, **session.env(None), AGENT_SYNC_PYZ=conftest.PYZ, PY=sys.executable)
    return subprocess.run(["sh", "-c", command.replace("agent-sync", '"$PY" "$AGENT_SYNC_PYZ"')], cwd=repo.path,
                          env=env, capture_output=True, timeout=60)


def pushed_ids(alice):
    text = context_of(alice.hook("user-prompt-submit", "user_prompt_submit"), "UserPromptSubmit")
    return text


def test_listing_twice_shows_the_same_and_the_push_still_brings_them(repo):
    alice, bob = pair(repo)
    send_many(bob, 3)
    first = [m["id"] for m in alice.json("inbox")["messages"]]
    assert len(first) == 3
    assert [m["id"] for m in alice.json("inbox")["messages"]] == first
    assert "note 0" in alice.ok("inbox").out
    text = pushed_ids(alice)
    assert all(f"note {i}" in text for i in range(3)), text
    # what a hook pushed is delivered: no longer unread, still in --all
    assert alice.json("inbox")["messages"] == []
    assert [m["id"] for m in alice.json("inbox", "--all")["messages"]] == first


def test_inbox_to_a_full_disk_loses_nothing(repo):
    alice, bob = pair(repo)
    send_many(bob, 5)
    for flags in ("", "--mark-read", "--mark-read --json"):
        proc = shell(repo, alice, f"agent-sync inbox {flags} > /dev/full")
        assert proc.returncode != 0, proc  # the listing was not written
        assert b"Traceback" not in proc.stderr, proc.stderr
        assert len(alice.json("inbox")["messages"]) == 5, flags
    text = pushed_ids(alice)
    assert all(f"note {i}" in text for i in range(5)), text


def test_inbox_into_a_pipe_closed_early_loses_nothing(repo):
    alice, bob = pair(repo)
    send_many(bob, 60, size=2000)  # about 120 KB of listing: more than a pipe buffer holds
    for flags in ("", "--mark-read"):
        proc = shell(repo, alice, f"agent-sync inbox {flags} | head -1")
        assert proc.stdout.count(b"\n") == 1, proc.stdout[:200]
        assert b"Traceback" not in proc.stderr, proc.stderr
        assert len(alice.json("inbox")["messages"]) == 60, flags


def test_mark_read_marks_exactly_what_was_printed(repo):
    alice, bob = pair(repo)
    send_many(bob, 2)
    shown = [m["id"] for m in alice.json("inbox", "--mark-read")["messages"]]
    assert len(shown) == 2
    bob.ok("send", "--to", "alice", "--message", "after the listing")
    (left,) = alice.json("inbox")["messages"]
    assert left["body"] == "after the listing" and left["id"] not in shown
    text = pushed_ids(alice)
    assert "after the listing" in text and "note 0" not in text, text


def test_read_message_and_ack_settle_one(repo):
    alice, bob = pair(repo)
    send_many(bob, 3)
    ids = [m["id"] for m in alice.json("inbox")["messages"]]
    alice.ok("read-message", str(ids[0]))
    alice.ok("ack", str(ids[1]))
    assert [m["id"] for m in alice.json("inbox")["messages"]] == [ids[2]]
