"""The real Gemini CLI (`gemini -p`, pinned in clis.py) with agent-sync's hooks, against a scripted model.

Every test drives the pinned binary through a scripted conversation and asserts
on what reached the model (function responses, injected context) and on the files on disk.
"""

import json
import re

import pytest
from drivers import Call, Gemini, Reply, install

LOCKED = "src/a.py"
REASON = "refactoring login"
FRAME_OPEN = "[&agent-sync-state trust=untrusted]"
FRAME_CLOSE = "[&/agent-sync-state]"


@pytest.fixture
def gemini(repo):
    (repo.path / "src").mkdir()
    (repo.path / LOCKED).write_text("a = 1\n")
    (repo.path / "src" / "b.py").write_text("b = 1\n")
    install(repo, "gemini")
    driver = Gemini(repo)
    driver.trust()
    return driver


@pytest.fixture
def locked(gemini):
    gemini.repo.ok("register", "--name", "owner", agent="owner")
    gemini.repo.ok("lock", LOCKED, "--reason", REASON, agent="owner")
    return gemini


def path(driver, rel):
    return str(driver.repo.path / rel)


def not_blocked(run, calls):
    """The calls whose response does not carry the refusal: the lock, its owner and its reason."""
    missed = []
    for call in calls:
        out = run.output(call) or ""
        if not ("BLOCKED" in out and LOCKED in out and REASON in out and "owner" in out):
            missed.append((call.name, call.arguments, out))
    return missed


def session_agent(repo):
    ids = [a["id"] for a in repo.json("agents", agent="owner")["agents"] if a["id"].startswith("s-")]
    assert len(ids) == 1, ids
    return ids[0]


def test_a_lock_stops_replace_write_file_and_the_shell(locked):
    calls = [
        Call("replace", {"file_path": path(locked, LOCKED), "old_string": "a = 1", "new_string": "a = 2",
                         "instruction": "bump a"}),
        Call("write_file", {"file_path": path(locked, LOCKED), "content": "a = 3\n"}),
        Call("run_shell_command", {"command": f"echo 'a = 4' > {LOCKED}", "description": "write a"}),
        Call("run_shell_command", {"command": "echo 'a = 5' > a.py", "dir_path": "src", "description": "write a"}),
    ]
    run = locked.run(*[Reply(c) for c in calls])
    assert run.code == 0, run
    assert not_blocked(run, calls) == [], run
    assert (locked.repo.path / LOCKED).read_text() == "a = 1\n"


def test_a_free_edit_goes_through_and_is_logged(gemini):
    calls = [
        Call("replace", {"file_path": path(gemini, "src/b.py"), "old_string": "b = 1", "new_string": "b = 2",
                         "instruction": "bump b"}),
        Call("write_file", {"file_path": path(gemini, "src/c.py"), "content": "c = 1\n"}),
        Call("run_shell_command", {"command": "printf 'd = 1\\n' > d.py", "dir_path": "src", "description": "d"}),
    ]
    run = gemini.run(*[Reply(c) for c in calls])
    assert run.code == 0, run
    src = gemini.repo.path / "src"
    assert (src / "b.py").read_text() == "b = 2\n"
    assert (src / "c.py").read_text() == "c = 1\n" and (src / "d.py").read_text() == "d = 1\n"
    edits = {a["path"] for a in gemini.repo.json("status", agent="owner")["activity"] if a["type"] == "edit"}
    assert {"src/b.py", "src/c.py", "src/d.py"} <= edits, edits


def test_the_session_start_state_reaches_the_model_framed(locked):
    locked.repo.ok("create-task", "Ship the login page", agent="owner")
    run = locked.run(Reply(text="looked"))
    assert run.code == 0, run
    context = run.server.context_text()
    me = session_agent(locked.repo)
    assert f"Locked by others (do not edit): {LOCKED} by owner" in context, context[-3000:]
    assert "Ship the login page" in context and f"you are {me}" in context
    assert locked.repo.run("doctor").code == 0  # doctor sees the trust Gemini acted on
    assert FRAME_OPEN in context and FRAME_CLOSE in context, context[-3000:]  # the frame survives Gemini's escaping


def test_messages_reach_the_model_on_the_next_prompt(locked):
    def broadcast(_body):
        locked.repo.ok("send", "--to", "all", "--message", "schema frozen until 3pm", agent="owner")
        return Reply(text="noted")

    first = locked.run(broadcast)
    assert first.code == 0, first
    assert "schema frozen" not in first.server.context_text()
    second = locked.run(Reply(text="again"), prompt="next step", args=["--resume", "latest"])
    assert second.code == 0, second
    context = second.server.context_text()
    assert "schema frozen until 3pm" in context, context[-3000:]
    pushed = context[context.index("schema frozen until 3pm") - 2000:]
    assert FRAME_OPEN in pushed, pushed


def test_a_directed_message_holds_the_stop_once(locked):
    def message(_body):
        me = session_agent(locked.repo)
        locked.repo.ok("send", "--to", me, "--message", "please review src/a.py", agent="owner")
        return Reply(text="first answer")

    run = locked.run(message, Reply(text="second answer"), Reply(text="third answer"))
    assert run.code == 0, run
    requests = run.server.requests
    assert len(requests) == 2, [r[0] for r in requests]
    assert "please review src/a.py" in json.dumps(requests[1][1])
    assert "please review src/a.py" not in json.dumps(requests[0][1])


def test_a_lock_taken_from_its_own_shell_never_blocks_it(gemini):
    """Gemini's shell carries no session id: the model uses the command form GEMINI.md and the session note give."""
    seen = {}

    def lock_as_told(body):
        context = gemini.server_context(body)
        seen["context"] = context
        found = re.search(r"agent-sync knows this session as (s-[0-9a-f]+)", context)
        me = found.group(1) if found else "unknown"
        return Reply(Call("run_shell_command", {
            "command": f"AGENT_SYNC_ID={me} python3 .claude/skills/agent-sync/agent-sync.pyz lock src/b.py",
            "description": "lock b"}))

    edit = Call("replace", {"file_path": path(gemini, "src/b.py"), "old_string": "b = 1", "new_string": "b = 2",
                            "instruction": "bump b"})
    run = gemini.run(lock_as_told, Reply(edit))
    assert run.code == 0, run
    me = session_agent(gemini.repo)
    owners = {lk["path"]: lk["owner"] for lk in gemini.repo.json("locks", agent="owner")["locks"]}
    assert owners == {"src/b.py": me}, (owners, seen["context"][-2000:])
    assert "BLOCKED" not in run.output(edit)
    assert (gemini.repo.path / "src" / "b.py").read_text() == "b = 2\n"
    assert "Gemini CLI's shell does not tell agent-sync which session you are" in seen["context"]  # GEMINI.md


def test_an_untrusted_folder_refuses_to_run_and_doctor_says_so(locked):
    (locked.gemini_dir / "trustedFolders.json").unlink()
    run = locked.run(Reply(Call("write_file", {"file_path": path(locked, LOCKED), "content": "a = 2\n"})))
    assert run.code == 55 and "not running in a trusted directory" in run.err, run
    assert run.server.requests == []  # nothing reached the model, no hook ran
    assert (locked.repo.path / LOCKED).read_text() == "a = 1\n"
    doctor = locked.repo.run("doctor")
    assert doctor.code == 8, doctor
    assert "Gemini" in doctor.out and "trust" in doctor.out, doctor
