"""The real Codex CLI (`codex exec`, pinned in clis.py) with `install --agent codex`, against a scripted model.

Every test drives the pinned binary through a scripted conversation and asserts
on what reached the model (tool outputs, injected context) and on the files on disk.
"""

import json

import pytest
from drivers import Codex
from harness import Call, Reply

from agent_sync.core.sanitize import FRAME_CLOSE, FRAME_OPEN

LOCKED = "src/a.py"
REASON = "refactoring login"


def patch(path, old, new):
    return f"*** Begin Patch\n*** Update File: {path}\n@@\n-{old}\n+{new}\n*** End Patch\n"


def heredoc(text):
    return f"apply_patch <<'EOF'\n{text}EOF\n"


@pytest.fixture
def codex(sandbox):
    return Codex(sandbox).setup()


@pytest.fixture
def locked(codex):
    codex.box.cli("register", "--name", "owner", agent="owner")
    codex.box.cli("lock", LOCKED, "--reason", REASON, agent="owner")
    return codex


def not_blocked(server, calls):
    """The calls whose output does not carry the refusal: the lock, its owner and its reason."""
    missed = []
    for call in calls:
        out = server.result_of(call)
        if not ("BLOCKED" in out and LOCKED in out and REASON in out and "owner" in out):
            missed.append((call.name, call.args, out))
    return missed


def test_a_lock_stops_apply_patch_the_heredoc_patch_and_the_shell(locked):
    calls = [
        Call("apply_patch", patch(LOCKED, "a = 1", "a = 2")),
        Call("exec_command", {"cmd": heredoc(patch(LOCKED, "a = 1", "a = 3"))}),
        Call("exec_command", {"cmd": f"echo 'a = 4' > {LOCKED}"}),
        Call("exec_command", {"cmd": "echo 'a = 5' > a.py", "workdir": locked.path("src")}),
    ]
    server = locked.server(*[Reply(c) for c in calls])
    locked.run(server)
    assert not_blocked(server, calls) == [], server.summary()
    assert locked.box.read(LOCKED) == "a = 1\n"
    refused = [a for a in locked.box.activity() if a["path"] == LOCKED and a["type"] != "edit"]
    assert refused, locked.box.activity()  # the operator sees who tried


def test_a_free_edit_goes_through_and_is_logged(codex):
    calls = [
        Call("apply_patch", patch("src/b.py", "b = 1", "b = 2")),
        Call("exec_command", {"cmd": "printf 'c = 1\\n' > src/c.py"}),
        Call("exec_command", {"cmd": "printf 'd = 1\\n' > d.py", "workdir": codex.path("src")}),
    ]
    server = codex.server(*[Reply(c) for c in calls])
    codex.run(server)
    assert codex.box.read("src/b.py") == "b = 2\n"
    assert codex.box.read("src/c.py") == "c = 1\n" and codex.box.read("src/d.py") == "d = 1\n"
    edits = {a["path"] for a in codex.box.activity() if a["type"] == "edit"}
    assert {"src/b.py", "src/c.py", "src/d.py"} <= edits, edits


def test_the_session_start_state_reaches_the_model(locked):
    locked.box.cli("create-task", "Ship the login page", agent="owner")
    server = locked.server(Reply(text="looked"))
    locked.run(server)
    me = locked.session_agent()
    assert server.saw(FRAME_OPEN) and server.saw(FRAME_CLOSE), server.summary()
    assert server.saw(f"Locked by others (do not edit): {LOCKED} by owner"), server.summary()
    assert server.saw("Ship the login page") and server.saw(f"you are {me}")
    doctor = locked.box.cli("doctor", check=None)
    assert doctor.code == 0 and "the codex hooks in .codex/hooks.json run" in doctor.out, doctor  # the same hashes


def test_the_state_is_back_after_a_compaction(locked):
    """Codex compacts, then fires SessionStart with source "compact": the state is injected again."""
    locked.extra_config = "model_auto_compact_token_limit = 1000"
    server = locked.server(Reply(Call("exec_command", {"cmd": "echo one"})), Reply(text="summary of the work so far"),
                           Reply(text="done"), input_tokens=900000)
    locked.run(server)
    after = [r for r in server.turns if "summary of the work so far" in json.dumps(r.body)]
    assert after, server.summary()
    assert any(FRAME_OPEN in t and f"{LOCKED} by owner" in t for t in server.texts(after[-1])), server.summary()


def test_messages_reach_the_model_on_the_next_prompt(locked):
    def broadcast(_request):
        locked.box.cli("send", "--to", "all", "--message", "schema frozen until 3pm", agent="owner")

    first = locked.server(Reply(text="noted", before=broadcast))
    locked.run(first)
    assert not first.saw("schema frozen")  # sent after this turn's prompt
    second = locked.server(Reply(text="again"))
    locked.run(second, prompt="next step", args=["resume", "--last"])
    pushed = [t for t in second.seen_texts() if "schema frozen until 3pm" in t]
    assert pushed and FRAME_OPEN in pushed[-1], second.summary()  # framed as untrusted


def test_a_directed_message_holds_the_stop_once(locked):
    def message(_request):
        locked.box.cli("send", "--to", locked.session_agent(), "--message", "please review src/a.py", agent="owner")

    server = locked.server(Reply(text="first answer", before=message), Reply(text="second answer"),
                           Reply(text="third answer"))
    locked.run(server)
    assert len(server.turns) == 2, server.summary()  # one extra turn, not two
    assert "please review src/a.py" in json.dumps(server.turns[1].body)
    assert "please review src/a.py" not in json.dumps(server.turns[0].body)


def test_a_lock_taken_from_its_own_shell_never_blocks_it(codex):
    calls = [
        Call("exec_command", {"cmd": "python3 .claude/skills/agent-sync/agent-sync.pyz lock src/b.py --reason mine"}),
        Call("apply_patch", patch("src/b.py", "b = 1", "b = 2")),
        Call("exec_command", {"cmd": ".claude/skills/agent-sync/scripts/agent-sync lock src/c.py"}),
        Call("exec_command", {"cmd": "printf 'c = 1\\n' > src/c.py"}),
    ]
    server = codex.server(*[Reply(c) for c in calls])
    codex.run(server)
    me = codex.session_agent()
    owners = {lk["path"]: lk["owner"] for lk in codex.box.locks()}
    outputs = [server.result_of(c) for c in calls]
    assert owners == {"src/b.py": me, "src/c.py": me}, (owners, outputs)
    assert not any("BLOCKED" in out for out in outputs), outputs
    assert codex.box.read("src/b.py") == "b = 2\n" and codex.box.read("src/c.py") == "c = 1\n"


def test_an_untrusted_project_runs_no_hook_and_doctor_says_so(locked):
    locked.trust(project=False, hooks=False)
    call = Call("apply_patch", patch(LOCKED, "a = 1", "a = 2"))
    server = locked.server(Reply(call))
    locked.run(server)
    assert "BLOCKED" not in server.result_of(call)
    assert locked.box.read(LOCKED) == "a = 2\n"  # the lock was not enforced
    assert not [a for a in locked.box.json("agents", agent="owner")["agents"] if a["id"].startswith("s-")]
    doctor = locked.box.cli("doctor", check=8)
    assert "codex hooks installed but NOT ENFORCED" in doctor.out and "trust" in doctor.out, doctor
