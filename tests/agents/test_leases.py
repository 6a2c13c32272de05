"""Automatic leases (issue 17) between two real Claude Code sessions in one repository.

The first session edits src/a.py without locking it. While it waits for the
model's next turn (so it is still running), a second session tries to edit
the same file: Claude Code must show the second model our refusal, naming
the first session's automatic lease. Then the first session's end releases
the lease and a third run's edit goes through.
"""

from fake_anthropic import FakeAnthropic
from harness import Reply
from test_claude import Claude, claude, edit, read  # noqa: F401 - claude is the fixture

LEASE = "[agent-sync] BLOCKED: src/a.py is under an automatic lease of"


def test_a_second_session_cannot_edit_the_file_the_first_just_edited(claude, sandbox):
    first = claude.setup()
    second = Claude(sandbox, first.binary)
    a = first.path("src/a.py")
    theirs = edit(a, "x = 2", "x = 3")
    seen = {}

    def second_session_edits(_request):
        """Runs while the first session waits for the model, right after its edit."""
        server = FakeAnthropic(Reply(read(a)), Reply(theirs), Reply(text="The file is taken."))
        second.run(server)
        seen["refusal"] = server.result_of(theirs)
        seen["lease"] = [lk for lk in sandbox.locks() if lk["path"] == "src/a.py"]

    mine = edit(a, "x = 1", "x = 2")
    server = FakeAnthropic(Reply(read(a)), Reply(mine), Reply(text="Edited.", before=second_session_edits))
    first.run(server)

    assert "updated successfully" in server.result_of(mine)
    refusal = seen["refusal"]
    assert refusal.startswith(f"PreToolUse:Edit hook error: {LEASE} {first.me} [{first.me}]"), refusal
    assert "they last edited it" in refusal and "the lease lapses in" in refusal, refusal
    assert "Ask them: " in refusal and f" send --to {first.me} --message 'I need to edit src/a.py" in refusal, refusal
    assert "python3" not in refusal and ".pyz" not in refusal, refusal
    assert [(lk["owner"], lk["auto_lease"]) for lk in seen["lease"]] == [(first.me, True)], seen["lease"]
    assert sandbox.read("src/a.py") == "x = 2\n"

    # the first session has ended: its lease went with it, and the next session's edit goes through
    assert [lk for lk in sandbox.locks() if lk["auto_lease"]] == []
    later = edit(a, "x = 2", "x = 4")
    server = FakeAnthropic(Reply(read(a)), Reply(later), Reply(text="Edited."))
    Claude(sandbox, first.binary).run(server)
    assert "updated successfully" in server.result_of(later)
    assert sandbox.read("src/a.py") == "x = 4\n"


def test_with_leases_off_the_second_session_edits_as_before(claude, sandbox):
    first = claude.setup()
    second = Claude(sandbox, first.binary)
    a = first.path("src/a.py")
    theirs = edit(a, "x = 2", "x = 3")
    off = {"AGENT_SYNC_AUTO_LEASE": "off"}
    seen = {}

    def second_session_edits(_request):
        server = FakeAnthropic(Reply(read(a)), Reply(theirs), Reply(text="Edited."))
        second.run(server, env=off)
        seen["result"] = server.result_of(theirs)

    mine = edit(a, "x = 1", "x = 2")
    server = FakeAnthropic(Reply(read(a)), Reply(mine), Reply(text="Edited.", before=second_session_edits))
    first.run(server, env=off)
    assert "updated successfully" in server.result_of(mine)
    assert "updated successfully" in seen["result"], seen["result"]
    assert sandbox.read("src/a.py") == "x = 3\n"
    assert sandbox.locks() == []
