"""The real Codex CLI (`codex exec`, pinned in clis.py) with agent-sync's hooks, against a scripted model.

Every test drives the pinned binary through a scripted conversation and asserts
on what reached the model (tool outputs, injected context) and on the files on disk.
"""

import json

import pytest
from drivers import Call, Codex, Reply, install

LOCKED = "src/a.py"
REASON = "refactoring login"
FRAME_OPEN = "[&agent-sync-state trust=untrusted]"
FRAME_CLOSE = "[&/agent-sync-state]"


def patch(path, old, new):
    return f"*** Begin Patch\n*** Update File: {path}\n@@\n-{old}\n+{new}\n*** End Patch\n"


def heredoc(text):
    return f"apply_patch <<'EOF'\n{text}EOF\n"


@pytest.fixture
def codex(repo):
    (repo.path / "src").mkdir()
    (repo.path / LOCKED).write_text("a = 1\n")
    (repo.path / "src" / "b.py").write_text("b = 1\n")
    install(repo, "codex")
    driver = Codex(repo)
    driver.trust()
    return driver


@pytest.fixture
def locked(codex):
    codex.repo.ok("register", "--name", "owner", agent="owner")
    codex.repo.ok("lock", LOCKED, "--reason", REASON, agent="owner")
    return codex


def not_blocked(run, calls):
    """The calls whose output does not carry the refusal: the lock, its owner and its reason."""
    missed = []
    for call in calls:
        out = run.output(call) or ""
        if not ("BLOCKED" in out and LOCKED in out and REASON in out and "owner" in out):
            missed.append((call.name, call.arguments or call.freeform, out))
    return missed


def test_a_lock_stops_apply_patch_the_heredoc_patch_and_the_shell(locked):
    src = str(locked.repo.path / "src")
    calls = [
        Call("apply_patch", freeform=patch(LOCKED, "a = 1", "a = 2")),
        Call("exec_command", {"cmd": heredoc(patch(LOCKED, "a = 1", "a = 3"))}),
        Call("exec_command", {"cmd": f"echo 'a = 4' > {LOCKED}"}),
        Call("exec_command", {"cmd": "echo 'a = 5' > a.py", "workdir": src}),
    ]
    run = locked.run(*[Reply(c) for c in calls])
    assert run.code == 0, run
    assert not_blocked(run, calls) == [], run
    assert (locked.repo.path / LOCKED).read_text() == "a = 1\n"


def session_agent(repo):
    """The id agent-sync gave the Codex session (hooks hash the session id into `s-...`)."""
    ids = [a["id"] for a in repo.json("agents", agent="owner")["agents"] if a["id"].startswith("s-")]
    assert len(ids) == 1, ids
    return ids[0]


def activity(repo):
    return repo.json("status", agent="owner")["activity"]


def test_a_free_edit_goes_through_and_is_logged(codex):
    src = codex.repo.path / "src"
    calls = [
        Call("apply_patch", freeform=patch("src/b.py", "b = 1", "b = 2")),
        Call("exec_command", {"cmd": "printf 'c = 1\\n' > src/c.py"}),
        Call("exec_command", {"cmd": "printf 'd = 1\\n' > d.py", "workdir": str(src)}),
    ]
    run = codex.run(*[Reply(c) for c in calls])
    assert run.code == 0, run
    assert (src / "b.py").read_text() == "b = 2\n"
    assert (src / "c.py").read_text() == "c = 1\n" and (src / "d.py").read_text() == "d = 1\n"
    edits = {a["path"] for a in activity(codex.repo) if a["type"] == "edit"}
    assert {"src/b.py", "src/c.py", "src/d.py"} <= edits, edits


def test_the_session_start_state_reaches_the_model(locked):
    locked.repo.ok("create-task", "Ship the login page", agent="owner")
    run = locked.run(Reply(text="looked"))
    assert run.code == 0, run
    context = run.server.context_text()
    me = session_agent(locked.repo)
    assert FRAME_OPEN in context and FRAME_CLOSE in context, context[-3000:]
    assert f"Locked by others (do not edit): {LOCKED} by owner" in context, context[-3000:]
    assert "Ship the login page" in context and f"you are {me}" in context
    doctor = locked.repo.run("doctor")
    assert doctor.code == 0 and "the codex hooks in .codex/hooks.json run" in doctor.out, doctor  # same hashes


def test_the_state_is_back_after_a_compaction(locked):
    """Codex compacts, then fires SessionStart with source "compact": the state is injected again."""
    locked.extra_config = "model_auto_compact_token_limit = 1000"
    first, summary = Call("exec_command", {"cmd": "echo one"}), Reply(text="summary of the work so far")
    run = locked.run(Reply(first), summary, Reply(text="done"), server_options={"input_tokens": 900000})
    assert run.code == 0, run
    compacted = [body for _path, body in run.server.requests if "summary of the work so far" in json.dumps(body)]
    assert compacted, [json.dumps(b)[-500:] for _p, b in run.server.requests]
    after = json.dumps(compacted[-1])
    assert FRAME_OPEN in after and f"{LOCKED} by owner" in after, after[-3000:]


def test_messages_reach_the_model_on_the_next_prompt(locked):
    def broadcast(_body):
        locked.repo.ok("send", "--to", "all", "--message", "schema frozen until 3pm", agent="owner")
        return Reply(text="noted")

    first = locked.run(broadcast)
    assert first.code == 0, first
    assert "schema frozen" not in first.server.context_text()  # sent after this turn's prompt
    second = locked.run(Reply(text="again"), prompt="next step", args=["resume", "--last"])
    assert second.code == 0, second
    context = second.server.context_text()
    assert "schema frozen until 3pm" in context, context[-3000:]
    pushed = context[context.index("schema frozen until 3pm") - 2000:]
    assert FRAME_OPEN in pushed, pushed  # framed as untrusted


def test_a_directed_message_holds_the_stop_once(locked):
    def message(_body):
        me = session_agent(locked.repo)
        locked.repo.ok("send", "--to", me, "--message", "please review src/a.py", agent="owner")
        return Reply(text="first answer")

    run = locked.run(message, Reply(text="second answer"), Reply(text="third answer"))
    assert run.code == 0, run
    requests = run.server.requests
    assert len(requests) == 2, [r[0] for r in requests]  # one extra turn, not two
    second = json.dumps(requests[1][1])
    assert "please review src/a.py" in second and "please review src/a.py" not in json.dumps(requests[0][1])


def test_a_lock_taken_from_its_own_shell_never_blocks_it(codex):
    calls = [
        Call("exec_command", {"cmd": "python3 .claude/skills/agent-sync/agent-sync.pyz lock src/b.py --reason mine"}),
        Call("apply_patch", freeform=patch("src/b.py", "b = 1", "b = 2")),
        Call("exec_command", {"cmd": ".claude/skills/agent-sync/scripts/agent-sync lock src/c.py"}),
        Call("exec_command", {"cmd": "printf 'c = 1\\n' > src/c.py"}),
    ]
    run = codex.run(*[Reply(c) for c in calls])
    assert run.code == 0, run
    me = session_agent(codex.repo)
    owners = {lk["path"]: lk["owner"] for lk in codex.repo.json("locks", agent="owner")["locks"]}
    assert owners == {"src/b.py": me, "src/c.py": me}, (owners, [run.output(c) for c in calls])
    assert not any("BLOCKED" in (run.output(c) or "") for c in calls), [run.output(c) for c in calls]
    assert (codex.repo.path / "src" / "b.py").read_text() == "b = 2\n"
    assert (codex.repo.path / "src" / "c.py").read_text() == "c = 1\n"


def test_an_untrusted_project_runs_no_hook_and_doctor_says_so(locked):
    locked.trust(project=False, hooks=False)
    call = Call("apply_patch", freeform=patch(LOCKED, "a = 1", "a = 2"))
    run = locked.run(Reply(call))
    assert run.code == 0, run
    assert "BLOCKED" not in run.output(call)
    assert (locked.repo.path / LOCKED).read_text() == "a = 2\n"  # the lock was not enforced
    assert not [a for a in locked.repo.json("agents", agent="owner")["agents"] if a["id"].startswith("s-")]
    doctor = locked.repo.run("doctor", env={"CODEX_HOME": str(locked.codex_home)})
    assert doctor.code == 8, doctor
    assert "Codex" in doctor.out and "trust" in doctor.out, doctor
