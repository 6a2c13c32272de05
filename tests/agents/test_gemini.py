"""The real Gemini CLI (`gemini -p`, pinned in clis.py) with `install --agent gemini`, against a scripted model.

Every test drives the pinned binary through a scripted conversation and asserts
on what reached the model (function responses, injected context) and on the files on disk.
"""

import json
import re

import pytest
from drivers import Gemini
from harness import Call, Reply

from agent_sync.core.sanitize import FRAME_CLOSE, FRAME_OPEN

LOCKED = "src/a.py"
REASON = "refactoring login"


@pytest.fixture
def gemini(sandbox):
    return Gemini(sandbox).setup()


@pytest.fixture
def locked(gemini):
    gemini.box.cli("register", "--name", "owner", agent="owner")
    gemini.box.cli("lock", LOCKED, "--reason", REASON, agent="owner")
    return gemini


def not_blocked(server, calls):
    """The calls whose response does not carry the refusal: the lock, its owner and its reason."""
    missed = []
    for call in calls:
        out = server.result_of(call)
        if not ("BLOCKED" in out and LOCKED in out and REASON in out and "owner" in out):
            missed.append((call.name, call.args, out))
    return missed


def replace(driver, rel, old, new):
    return Call("replace", {"file_path": driver.path(rel), "old_string": old, "new_string": new,
                            "instruction": f"change {rel}"})


def test_a_lock_stops_replace_write_file_and_the_shell(locked):
    calls = [
        replace(locked, LOCKED, "a = 1", "a = 2"),
        Call("write_file", {"file_path": locked.path(LOCKED), "content": "a = 3\n"}),
        Call("run_shell_command", {"command": f"echo 'a = 4' > {LOCKED}", "description": "write a"}),
        Call("run_shell_command", {"command": "echo 'a = 5' > a.py", "dir_path": "src", "description": "write a"}),
    ]
    server = locked.server(*[Reply(c) for c in calls])
    locked.run(server)
    assert not_blocked(server, calls) == [], server.summary()
    assert locked.box.read(LOCKED) == "a = 1\n"


def test_a_free_edit_goes_through_and_is_logged(gemini):
    calls = [
        replace(gemini, "src/b.py", "b = 1", "b = 2"),
        Call("write_file", {"file_path": gemini.path("src/c.py"), "content": "c = 1\n"}),
        Call("run_shell_command", {"command": "printf 'd = 1\\n' > d.py", "dir_path": "src", "description": "d"}),
    ]
    server = gemini.server(*[Reply(c) for c in calls])
    gemini.run(server)
    assert gemini.box.read("src/b.py") == "b = 2\n"
    assert gemini.box.read("src/c.py") == "c = 1\n" and gemini.box.read("src/d.py") == "d = 1\n"
    edits = {a["path"] for a in gemini.box.activity() if a["type"] == "edit"}
    assert {"src/b.py", "src/c.py", "src/d.py"} <= edits, edits


def test_the_session_start_state_reaches_the_model_framed(locked):
    locked.box.cli("create-task", "Ship the login page", agent="owner")
    server = locked.server(Reply(text="looked"))
    locked.run(server)
    me = locked.session_agent()
    assert server.saw(f"Locked by others (do not edit): {LOCKED} by owner"), server.summary()
    assert server.saw("Ship the login page") and server.saw(f"you are {me}")
    assert server.saw(FRAME_OPEN) and server.saw(FRAME_CLOSE), server.summary()  # the frame survives the escaping
    assert locked.box.cli("doctor", check=None).code == 0  # doctor sees the trust Gemini acted on


def test_messages_reach_the_model_on_the_next_prompt(locked):
    def broadcast(_request):
        locked.box.cli("send", "--to", "all", "--message", "schema frozen until 3pm", agent="owner")

    first = locked.server(Reply(text="noted", before=broadcast))
    locked.run(first)
    assert not first.saw("schema frozen")
    second = locked.server(Reply(text="again"))
    locked.run(second, prompt="next step", args=["--resume", "latest"])
    pushed = [t for t in second.seen_texts() if "schema frozen until 3pm" in t]
    assert pushed and FRAME_OPEN in pushed[-1], second.summary()


def test_a_directed_message_holds_the_stop_once(locked):
    def message(_request):
        locked.box.cli("send", "--to", locked.session_agent(), "--message", "please review src/a.py", agent="owner")

    server = locked.server(Reply(text="first answer", before=message), Reply(text="second answer"),
                           Reply(text="third answer"))
    locked.run(server)
    assert len(server.turns) == 2, server.summary()
    assert "please review src/a.py" in json.dumps(server.turns[1].body)
    assert "please review src/a.py" not in json.dumps(server.turns[0].body)


def test_a_lock_taken_from_its_own_shell_never_blocks_it(gemini):
    """Gemini's shell carries no session id: the model uses the command form GEMINI.md and the session note give."""
    lock = Call("run_shell_command", {"command": "", "description": "lock b"})

    def lock_as_told(request):
        context = "\n".join(gemini.server_class.texts(None, request))
        found = re.search(r"agent-sync knows this session as (s-[0-9a-f]+)", context)
        assert found and "Gemini CLI's shell does not tell agent-sync which session you are" in context, context
        lock.args["command"] = f"AGENT_SYNC_ID={found.group(1)} python3 -I -S .claude/skills/agent-sync/agent-sync.pyz lock src/b.py"

    edit = replace(gemini, "src/b.py", "b = 1", "b = 2")
    server = gemini.server(Reply(lock, before=lock_as_told), Reply(edit))
    gemini.run(server)
    me = gemini.session_agent()
    owners = {lk["path"]: lk["owner"] for lk in gemini.box.locks()}
    assert owners == {"src/b.py": me}, (owners, server.result_of(lock))
    assert "BLOCKED" not in server.result_of(edit)
    assert gemini.box.read("src/b.py") == "b = 2\n"


def test_an_untrusted_folder_refuses_to_run_and_doctor_says_so(locked):
    locked.untrust()
    server = locked.server(Reply(Call("write_file", {"file_path": locked.path(LOCKED), "content": "a = 2\n"})))
    result = locked.run(server, expect=55)
    assert "not running in a trusted directory" in result.err, result
    assert server.turns == []  # nothing reached the model, no hook ran
    assert locked.box.read(LOCKED) == "a = 1\n"
    doctor = locked.box.cli("doctor", check=8)
    assert "gemini hooks installed but NOT ENFORCED" in doctor.out and "Trust folder" in doctor.out, doctor
