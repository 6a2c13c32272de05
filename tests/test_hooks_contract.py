"""The Claude Code hook contract, event by event, through the real `hook` command.

Payloads come from tests/fixtures/claude/*.json, shaped like the ones Claude
Code sends; `payload()` moves their /home/dev/project paths into the test's
repository. Agents are Claude Code sessions: the CLI runs with
CLAUDE_CODE_SESSION_ID=<id> (as the Bash tool would) and the hooks receive
the same id as the payload's session_id.
"""

import json
import re
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "claude"
FIXTURE_PROJECT = "/home/dev/project"
FRAME_OPEN = "[&agent-sync-state trust=untrusted]"
FRAME_CLOSE = "[&/agent-sync-state]"

# Session ids of the agents in these tests (the first is the fixtures' own).
ALICE = "3f6b2c1e-8a4d-4e0b-9c57-2d1f0a9b7e64"
BOB = "9d2e7a41-5c3b-4f18-a6e0-71b8c4d25f93"
CAROL = "c41f0b7e-2d9a-4c65-8e13-5a7f6b0d9e28"

EDIT_FIXTURES = {  # fixture: the tool_input key holding the path
    "pre_tool_use_edit": "file_path",
    "pre_tool_use_write": "file_path",
    "pre_tool_use_multiedit": "file_path",
    "pre_tool_use_notebook_edit": "notebook_path",
}
NON_WRITE_FIXTURES = ("pre_tool_use_read", "pre_tool_use_webfetch", "pre_tool_use_agent")


# ---------------------------------------------------------------------------
# Helpers shared with test_hooks_bash.py and test_hooks_garbage.py


def _rebase(value, root):
    if isinstance(value, str):
        return root + value[len(FIXTURE_PROJECT):] if value.startswith(FIXTURE_PROJECT) else value
    if isinstance(value, list):
        return [_rebase(v, root) for v in value]
    if isinstance(value, dict):
        return {k: _rebase(v, root) for k, v in value.items()}
    return value


# The installed hook command, reporting on stderr whether `os` was imported (the os-free answers).
def _probe(report):
    """A hook command line that writes `report` (an expression) on stderr as the hook leaves. The entry
    ends with entry._leave, an immediate exit that runs no atexit handler, so the probe wraps that."""
    return ("import sys\n"
            "sys.path.insert(0, sys.argv[1]); from agent_sync.hooks import entry\n"
            "leave = entry._leave\n"
            "def report(code):\n"
            f"    sys.stderr.write({report}); leave(code)\n"
            "entry._leave = report; entry.main()\n")


OS_PROBE = _probe("'os loaded: %s' % ('os' in sys.modules)")
# Which path answered an edit: the lock index alone, the database read directly (core/refusal.py), or the store.
ANSWER_PROBE = _probe("'answered by %s; os loaded: %s' % ('store' if 'agent_sync.hooks.handlers' in sys.modules else "
                      "'database' if 'agent_sync.core.refusal' in sys.modules else 'index', 'os' in sys.modules)")


def payload(name, repo=None, tool_input=None, **top):
    """A fixture payload, its paths moved into `repo`, with top-level fields and tool_input keys overridden."""
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    if repo is not None:
        data = _rebase(data, str(repo.path))
    for key, value in top.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = str(value) if isinstance(value, Path) else value
    if tool_input:
        data["tool_input"] = {**data.get("tool_input", {}), **tool_input}
    return data


class Session:
    """One Claude Code session: CLI calls carry CLAUDE_CODE_SESSION_ID, hook payloads carry session_id."""

    def __init__(self, repo, session_id, name=None, role=None):
        self.repo = repo
        self.session_id = session_id
        if name:
            args = ["register", "--name", name] + (["--role", role] if role else [])
            self.ok(*args)
        self.id = self.json("whoami")["id"]

    def env(self, extra=None):
        return {"CLAUDE_CODE_SESSION_ID": self.session_id, **(extra or {})}

    def run(self, *args, env=None, **kw):
        return self.repo.run(*args, env=self.env(env), **kw)

    def ok(self, *args, env=None, **kw):
        return self.repo.ok(*args, env=self.env(env), **kw)

    def json(self, *args, env=None, **kw):
        return self.repo.json(*args, env=self.env(env), **kw)

    def hook(self, event, fixture, env=None, tool_input=None, **top):
        """Run the hook with this session's id in the payload (no session variable in the env)."""
        data = payload(fixture, self.repo, tool_input=tool_input, session_id=self.session_id, **top)
        return self.repo.hook(event, data, env=env)


def context_of(result, event_name):
    """additionalContext of a successful hook that had something to say."""
    assert result.code == 0, result
    doc = json.loads(result.out)
    assert set(doc) == {"hookSpecificOutput"}, doc
    specific = doc["hookSpecificOutput"]
    assert specific["hookEventName"] == event_name, specific
    text = specific["additionalContext"]
    assert isinstance(text, str) and text, specific
    return text


def assert_framed(text):
    assert text.startswith(FRAME_OPEN) and text.rstrip().endswith(FRAME_CLOSE), text[:300]
    assert text.count(FRAME_OPEN) == 1 and text.count(FRAME_CLOSE) == 1, text[:300]


def assert_silent(result):
    """Exit 0 and nothing at all on stdout or stderr."""
    assert (result.code, result.out, result.err) == (0, "", ""), result


def assert_blocked(result, *fragments):
    assert result.code == 2, result
    assert result.out == "", result
    for fragment in fragments:
        assert fragment in result.err, (fragment, result.err)


def stop_reason(result):
    """What a Stop that goes on tells the model: Stop additionalContext (feedback, not a hook error)."""
    return context_of(result, "Stop")


def write_file(repo, rel, text="x\n"):
    path = repo.path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def agent_status(observer, agent_id):
    doc = observer.json("agents")
    (row,) = [a for a in doc["agents"] if a["id"] == agent_id]
    return row["status"]


# ---------------------------------------------------------------------------
# Fixtures


@pytest.fixture
def team(repo):
    """alice (backend) and bob (frontend), both registered Claude Code sessions."""
    write_file(repo, "src/app.py")
    write_file(repo, "src/other.py")
    write_file(repo, "notebooks/analysis.ipynb", "{}\n")
    alice = Session(repo, ALICE, "alice", "backend")
    bob = Session(repo, BOB, "bob", "frontend")
    return repo, alice, bob


def test_fixtures_look_like_claude_code_payloads():
    """Recorded from the pinned Claude Code (tests/agents/payloads.py), except MultiEdit, which it no longer has."""
    common = {"session_id", "transcript_path", "cwd", "hook_event_name"}
    names = sorted(p.stem for p in FIXTURES.glob("*.json"))
    assert len(names) >= 15, names
    for name in names:
        data = payload(name)
        assert common <= set(data), name
        if data["hook_event_name"] not in ("SessionStart", "SessionEnd", "PreCompact", "PostCompact", "SubagentStart"):
            assert "permission_mode" in data, name
        if data["hook_event_name"] in ("PreToolUse", "PostToolUse"):
            assert {"tool_name", "tool_input", "tool_use_id"} <= set(data), name
            assert data["tool_use_id"].startswith("toolu_"), name
    assert "notebook_path" in payload("pre_tool_use_notebook_edit")["tool_input"]
    assert "file_path" not in payload("pre_tool_use_notebook_edit")["tool_input"]
    assert payload("subagent_stop")["agent_type"] == "general-purpose"


# ---------------------------------------------------------------------------
# SessionStart


@pytest.mark.parametrize("source", ["startup", "resume", "clear", "compact", "fork"])
def test_session_start_injects_framed_state(team, source):
    _, alice, bob = team
    alice.ok("create-task", "Wire the session store", "--file", "src/app.py")
    alice.ok("claim-task", "Wire the session store")
    alice.ok("lock", "src/app.py", "--reason", "store refactor")
    bob.ok("lock", "src/other.py", "--reason", "css work")

    result = alice.hook("session-start", "session_start", source=source)
    text = context_of(result, "SessionStart")
    assert result.err == "", result
    assert_framed(text)
    assert "src/app.py" in text, text          # its own lock
    assert "Wire the session store" in text, text  # its own task
    assert "src/other.py" in text, text        # and what it must not touch


def test_session_start_in_a_fresh_repo_says_who_you_are(repo):
    result = repo.hook("session-start", payload("session_start", repo, session_id=CAROL))
    text = context_of(result, "SessionStart")
    assert_framed(text)


def test_session_start_auto_claim_for_a_free_agent(team):
    _, alice, bob = team
    bob.ok("create-task", "Write the migration", "--priority", "5")
    result = alice.hook("session-start", "session_start", env={"AGENT_SYNC_AUTO_CLAIM": "1"})
    text = context_of(result, "SessionStart")
    assert "Write the migration" in text, text
    (task,) = alice.json("tasks")["tasks"]
    assert (task["status"], task["owner"]) == ("in_progress", alice.id), task


def test_session_start_auto_claim_not_for_a_busy_agent(team):
    _, alice, bob = team
    bob.ok("create-task", "Already mine")
    alice.ok("claim-task", "Already mine")
    bob.ok("create-task", "Someone else's next job")
    context_of(alice.hook("session-start", "session_start", env={"AGENT_SYNC_AUTO_CLAIM": "1"}), "SessionStart")
    tasks = {t["title"]: t for t in alice.json("tasks")["tasks"]}
    assert tasks["Already mine"]["owner"] == alice.id
    assert tasks["Someone else's next job"]["status"] == "open", tasks
    assert tasks["Someone else's next job"]["owner"] is None, tasks


def test_session_start_without_auto_claim_claims_nothing(team):
    _, alice, bob = team
    bob.ok("create-task", "Nobody's yet")
    context_of(alice.hook("session-start", "session_start"), "SessionStart")
    (task,) = alice.json("tasks")["tasks"]
    assert task["status"] == "open", task


# ---------------------------------------------------------------------------
# UserPromptSubmit


def test_prompt_with_nothing_pending_prints_nothing(team):
    _, alice, _ = team
    assert_silent(alice.hook("user-prompt-submit", "user_prompt_submit"))
    assert_silent(alice.hook("user-prompt-submit", "user_prompt_submit"))


def test_prompt_in_a_fresh_repo_prints_nothing(repo):
    assert_silent(repo.hook("user-prompt-submit", payload("user_prompt_submit", repo)))


def test_prompt_delivers_directed_and_broadcast_once_per_agent(team):
    repo, alice, bob = team
    carol = Session(repo, CAROL, "carol", "qa")
    bob.ok("send", "--to", "alice", "--message", "directed: please rebase on main")
    bob.ok("send", "--to", "all", "--message", "broadcast: freeze at 5pm")

    text = context_of(alice.hook("user-prompt-submit", "user_prompt_submit"), "UserPromptSubmit")
    assert_framed(text)
    assert "directed: please rebase on main" in text and "broadcast: freeze at 5pm" in text, text
    assert_silent(alice.hook("user-prompt-submit", "user_prompt_submit"))

    # carol gets the broadcast too (delivery is per agent), never alice's message
    text = context_of(carol.hook("user-prompt-submit", "user_prompt_submit"), "UserPromptSubmit")
    assert "broadcast: freeze at 5pm" in text and "directed" not in text, text
    assert_silent(carol.hook("user-prompt-submit", "user_prompt_submit"))

    # the sender is never pushed its own messages
    assert_silent(bob.hook("user-prompt-submit", "user_prompt_submit"))
    # and nothing pushed is shown again by inbox
    assert "No unread messages" in alice.ok("inbox").out


def test_prompt_caps_context_and_points_at_inbox(team):
    _, alice, bob = team
    total = 40
    for i in range(total):
        body = f"note {i:02d} " + "lorem ipsum dolor sit amet " * 40
        bob.ok("send", "--to", "alice", "--message", body[:900])

    seen = []
    first = True
    for _ in range(total + 1):
        result = alice.hook("user-prompt-submit", "user_prompt_submit")
        if result.out == "":
            break
        assert len(result.out) < 10_000, len(result.out)
        text = context_of(result, "UserPromptSubmit")
        assert_framed(text)
        assert len(text) < 10_000, len(text)
        batch = re.findall(r"note (\d\d) ", text)
        assert batch, text[:500]
        seen += batch
        more = re.search(r"(\d+) more, run inbox", text)
        if first:
            assert more, text[-300:]
            assert int(more.group(1)) == total - len(batch), (more.group(0), len(batch))
            first = False
        if len(seen) < total:
            assert more and int(more.group(1)) == total - len(seen), (text[-300:], len(seen))
    assert sorted(seen) == [f"{i:02d}" for i in range(total)], seen  # each exactly once, none lost
    assert_silent(alice.hook("user-prompt-submit", "user_prompt_submit"))


# ---------------------------------------------------------------------------
# PreToolUse


@pytest.mark.parametrize("fixture", sorted(EDIT_FIXTURES))
def test_pre_tool_blocks_edit_of_a_file_locked_by_another_agent(team, fixture):
    _, alice, bob = team
    target = "notebooks/analysis.ipynb" if EDIT_FIXTURES[fixture] == "notebook_path" else "src/app.py"
    bob.ok("lock", target, "--reason", "rewriting the login flow")
    result = alice.hook("pre-tool-use", fixture)
    assert_blocked(result, target, "bob", "rewriting the login flow", f" send --to {bob.id}")
    assert re.search(r"expires in \d+m \(\d\d:\d\d UTC\)", result.err), result.err
    assert "Traceback" not in result.err
    refused = [a for a in bob.json("status")["activity"] if a["type"] == "blocked"]  # no later hook fires
    assert [(a["agent"], a["path"]) for a in refused] == [(alice.id, target)], refused
    assert "refused: locked by bob" in refused[0]["message"], refused


@pytest.mark.parametrize("fixture", sorted(EDIT_FIXTURES))
def test_pre_tool_allows_unlocked_and_own_files(team, fixture):
    _, alice, bob = team
    key = EDIT_FIXTURES[fixture]
    target = "notebooks/analysis.ipynb" if key == "notebook_path" else "src/app.py"
    bob.ok("lock", "src/other.py")
    assert_silent(alice.hook("pre-tool-use", fixture))  # unlocked, though others hold locks
    alice.ok("lock", target)
    assert_silent(alice.hook("pre-tool-use", fixture))  # its own lock
    assert_blocked(bob.hook("pre-tool-use", fixture), target, "alice")


def test_pre_tool_allows_edit_of_a_stale_agents_lock(team):
    _, alice, bob = team
    bob.ok("lock", "src/app.py", "--reason", "walked away")
    assert_blocked(alice.hook("pre-tool-use", "pre_tool_use_edit"), "src/app.py")
    time.sleep(1.3)
    assert_silent(alice.hook("pre-tool-use", "pre_tool_use_edit", env={"AGENT_SYNC_STALE_AFTER": "1s"}))


@pytest.mark.parametrize("fixture", NON_WRITE_FIXTURES)
def test_pre_tool_other_tools_pass_without_creating_the_database(repo, fixture):
    result = repo.hook("pre-tool-use", payload(fixture, repo))
    assert_silent(result)
    assert not repo.db.exists(), "a read-only tool call created the database"


@pytest.mark.parametrize("fixture", NON_WRITE_FIXTURES)
def test_pre_tool_other_tools_pass_on_locked_files(team, fixture):
    _, alice, bob = team
    bob.ok("lock", "src/", "--reason", "everything")
    assert_silent(alice.hook("pre-tool-use", fixture))


def test_pre_tool_relative_path_resolves_against_payload_cwd(team):
    repo, alice, bob = team
    write_file(repo, "docs/readme.md")
    bob.ok("lock", "src/app.py", "--reason", "relative")
    src, docs = repo.path / "src", repo.path / "docs"
    assert_blocked(alice.hook("pre-tool-use", "pre_tool_use_edit", cwd=src, tool_input={"file_path": "app.py"}),
                   "src/app.py")
    assert_blocked(alice.hook("pre-tool-use", "pre_tool_use_edit", cwd=docs,
                              tool_input={"file_path": "../src/app.py"}), "src/app.py")
    # app.py relative to docs/ is docs/app.py, which nobody locked
    assert_silent(alice.hook("pre-tool-use", "pre_tool_use_edit", cwd=docs, tool_input={"file_path": "app.py"}))
    assert_silent(alice.hook("pre-tool-use", "pre_tool_use_edit", cwd=src, tool_input={"file_path": "other.py"}))


def test_pre_tool_absolute_path_from_another_cwd(team):
    repo, alice, bob = team
    bob.ok("lock", "src/app.py")
    absolute = str(repo.path / "src" / "app.py")
    assert_blocked(alice.hook("pre-tool-use", "pre_tool_use_write", cwd=repo.path / "notebooks",
                              tool_input={"file_path": absolute}), "src/app.py")


def test_pre_tool_still_blocks_without_the_lock_index(team):
    repo, alice, bob = team
    bob.ok("lock", "src/app.py", "--reason", "no index")
    index = repo.db.parent / "locks.idx"
    assert index.exists()
    index.unlink()
    assert_blocked(alice.hook("pre-tool-use", "pre_tool_use_edit"), "src/app.py", "no index")
    assert_silent(alice.hook("pre-tool-use", "pre_tool_use_edit", tool_input={"file_path": str(repo.path / "src/other.py")}))


def test_pre_tool_with_a_stale_superset_index_still_decides_correctly(team):
    repo, alice, bob = team
    bob.ok("lock", "src/app.py", "src/other.py")
    index = repo.db.parent / "locks.idx"
    old = index.read_bytes()
    bob.ok("unlock", "src/app.py")
    assert index.read_bytes() != old
    index.write_bytes(old)  # the index still lists src/app.py: a superset of the truth
    assert_silent(alice.hook("pre-tool-use", "pre_tool_use_edit"))
    assert_blocked(alice.hook("pre-tool-use", "pre_tool_use_edit",
                              tool_input={"file_path": str(repo.path / "src/other.py")}), "src/other.py")


def test_pre_tool_on_an_unreadable_index_goes_to_the_database(team):
    repo, alice, bob = team
    bob.ok("lock", "src/app.py")
    (repo.db.parent / "locks.idx").write_text("garbage\n")
    assert_blocked(alice.hook("pre-tool-use", "pre_tool_use_edit"), "src/app.py")
    assert_silent(alice.hook("pre-tool-use", "pre_tool_use_edit", tool_input={"file_path": str(repo.path / "src/other.py")}))


# ---------------------------------------------------------------------------
# PostToolUse


def test_post_tool_logs_the_edit_and_renews_only_its_own_lock(team):
    repo, alice, bob = team
    alice.ok("lock", "src/app.py", "--ttl", "1m")
    bob.ok("lock", "src/other.py", "--ttl", "1m")
    before = {lk["path"]: lk for lk in alice.json("locks")["locks"]}
    time.sleep(2.1)  # expires_at has one-second resolution
    assert_silent(alice.hook("post-tool-use", "post_tool_use_edit"))
    # an edit of a file someone else holds (it got past the gate somehow) renews nothing of theirs,
    # takes no lease, and is not silent: the agent is told who holds the file (issue 17)
    other = {"file_path": str(repo.path / "src/other.py")}
    told = context_of(alice.hook("post-tool-use", "post_tool_use_edit", tool_input=other), "PostToolUse")
    assert_framed(told)
    assert "Your edit went through, but another agent holds the file" in told and f"[{bob.id}]" in told, told
    after = {lk["path"]: lk for lk in alice.json("locks")["locks"]}
    assert after["src/app.py"]["expires_at"] > before["src/app.py"]["expires_at"], (before, after)
    assert after["src/app.py"]["expires_in"] >= 55, after
    assert after["src/other.py"]["expires_at"] == before["src/other.py"]["expires_at"], (before, after)
    assert [lk["owner"] for lk in alice.json("locks")["locks"] if lk["path"] == "src/other.py"] == [bob.id]
    activity = alice.json("status")["activity"]
    edits = [(a["path"], a["agent"]) for a in activity if a["type"] == "edit"]
    assert ("src/app.py", alice.id) in edits, activity


def test_post_tool_logs_a_bash_write(team):
    _, alice, _ = team
    assert_silent(alice.hook("post-tool-use", "post_tool_use_bash"))
    activity = alice.json("status")["activity"]
    assert any(a["type"] == "edit" and a["path"] == "build/stamp.txt" for a in activity), activity


# ---------------------------------------------------------------------------
# Stop and SubagentStop


@pytest.mark.parametrize("address", ["id", "name", "role"])
def test_stop_blocks_once_for_a_directed_message(team, address):
    _, alice, bob = team
    to = {"id": alice.id, "name": "alice", "role": "backend"}[address]
    bob.ok("send", "--to", to, "--message", f"before you stop ({address}): run the migrations")

    reason = stop_reason(alice.hook("stop", "stop"))
    assert f"before you stop ({address}): run the migrations" in reason, reason
    assert FRAME_OPEN in reason, reason
    assert_silent(alice.hook("stop", "stop"))
    assert_silent(alice.hook("user-prompt-submit", "user_prompt_submit"))  # delivered, not pushed again


def test_stop_never_blocks_when_stop_hook_active(team):
    _, alice, bob = team
    bob.ok("send", "--to", "alice", "--message", "waits for the next stop")
    assert_silent(alice.hook("stop", "stop", stop_hook_active=True))
    assert_silent(alice.hook("stop", "stop", stop_hook_active=True))
    reason = stop_reason(alice.hook("stop", "stop"))  # still undelivered
    assert "waits for the next stop" in reason, reason
    assert_silent(alice.hook("stop", "stop"))


def test_stop_ignores_broadcasts(team):
    _, alice, bob = team
    bob.ok("send", "--to", "all", "--message", "lunch is here")
    assert_silent(alice.hook("stop", "stop"))
    # the broadcast was not consumed by the stop check: the next prompt shows it
    text = context_of(alice.hook("user-prompt-submit", "user_prompt_submit"), "UserPromptSubmit")
    assert "lunch is here" in text, text


def test_stop_does_not_block_for_messages_to_others(team):
    repo, alice, bob = team
    Session(repo, CAROL, "carol", "qa")
    bob.ok("send", "--to", "carol", "--message", "not for alice")
    assert_silent(alice.hook("stop", "stop"))


def test_subagent_stop_leaves_the_message_to_the_parent(team):
    """A subagent's context is discarded when it ends: what its stop was told would be lost."""
    _, alice, bob = team
    bob.ok("send", "--to", "backend", "--message", "for the parent session")
    assert_silent(alice.hook("subagent-stop", "subagent_stop"))
    assert_silent(alice.hook("subagent-stop", "subagent_stop", stop_hook_active=True))
    reason = stop_reason(alice.hook("stop", "stop"))
    assert "for the parent session" in reason, reason
    assert_silent(alice.hook("stop", "stop"))  # told once


def test_subagent_start_gives_the_subagent_the_state_but_no_messages(team):
    _, alice, bob = team
    bob.ok("lock", "src/other.py", "--reason", "css work")
    bob.ok("send", "--to", "alice", "--message", "for the parent only")
    text = context_of(alice.hook("subagent-start", "subagent_start"), "SubagentStart")
    assert_framed(text)
    assert "src/other.py" in text and "for the parent only" not in text, text
    assert "for the parent only" in stop_reason(alice.hook("stop", "stop"))


# ---------------------------------------------------------------------------
# SessionEnd


@pytest.mark.parametrize("reason", ["other", "clear"])
def test_session_end_idle_keeps_locks(team, reason):
    _, alice, bob = team
    alice.ok("lock", "src/app.py", "--reason", "kept")
    assert_silent(alice.hook("session-end", "session_end", reason=reason))
    assert agent_status(bob, alice.id) == "idle"
    (lock,) = bob.json("locks")["locks"]
    assert lock["path"] == "src/app.py" and lock["enforced"], lock
    assert_blocked(bob.hook("pre-tool-use", "pre_tool_use_edit"), "src/app.py", "kept")


@pytest.mark.parametrize("reason", ["logout", "prompt_input_exit"])
def test_session_end_offline(team, reason):
    _, alice, bob = team
    alice.ok("lock", "src/app.py")
    assert_silent(alice.hook("session-end", "session_end", reason=reason))
    assert agent_status(bob, alice.id) == "offline"


def test_session_end_auto_release_locks(team):
    _, alice, bob = team
    alice.ok("lock", "src/app.py", "src/other.py")
    assert_silent(alice.hook("session-end", "session_end", env={"AGENT_SYNC_AUTO_RELEASE_LOCKS": "1"}))
    assert bob.json("locks")["locks"] == []
    assert_silent(bob.hook("pre-tool-use", "pre_tool_use_edit"))


def test_session_end_without_a_database_does_not_create_one(repo):
    assert_silent(repo.hook("session-end", payload("session_end", repo)))
    assert not repo.db.exists()


# ---------------------------------------------------------------------------
# Identity inside hooks


def test_payload_session_id_is_the_cli_session(team):
    repo, alice, _ = team
    alice.ok("lock", "src/app.py", "--reason", "session identity")
    assert_silent(alice.hook("pre-tool-use", "pre_tool_use_edit"))
    result = repo.hook("pre-tool-use", payload("pre_tool_use_edit", repo, session_id=CAROL))
    assert_blocked(result, "src/app.py", "alice", "session identity")


def test_agent_sync_id_env_wins_over_the_payload(team):
    repo, alice, _ = team
    repo.ok("lock", "src/other.py", agent="builder")
    alice.ok("lock", "src/app.py")
    other = {"file_path": str(repo.path / "src/other.py")}
    # the payload says alice, the environment says builder: builder it is
    assert_silent(alice.hook("pre-tool-use", "pre_tool_use_edit", tool_input=other, env={"AGENT_SYNC_ID": "builder"}))
    assert_blocked(alice.hook("pre-tool-use", "pre_tool_use_edit", env={"AGENT_SYNC_ID": "builder"}), "src/app.py")
    assert_blocked(alice.hook("pre-tool-use", "pre_tool_use_edit", tool_input=other), "src/other.py", "builder")


# ---------------------------------------------------------------------------
# Subagents share their parent's session


def test_subagent_edits_its_parents_locked_file(team):
    _, alice, _ = team
    alice.ok("lock", "src/app.py")
    result = alice.hook("pre-tool-use", "pre_tool_use_edit_subagent", agent_id="sub-1", agent_type="general-purpose")
    assert_silent(result)


def test_a_subagents_own_lock_blocks_neither_it_nor_its_parent(team):
    repo, alice, bob = team
    # the subagent's Bash tool runs the CLI with the parent's CLAUDE_CODE_SESSION_ID
    alice.ok("lock", "src/other.py", "--reason", "subagent work")
    other = {"file_path": str(repo.path / "src/other.py")}
    assert_silent(alice.hook("pre-tool-use", "pre_tool_use_edit_subagent", tool_input=other,
                             agent_id="sub-1", agent_type="general-purpose"))
    assert_silent(alice.hook("pre-tool-use", "pre_tool_use_edit", tool_input=other))
    assert_silent(alice.hook("pre-tool-use", "pre_tool_use_edit_subagent", tool_input=other,
                             agent_id="sub-2", agent_type="Explore"))
    assert_blocked(bob.hook("pre-tool-use", "pre_tool_use_edit", tool_input=other), "src/other.py", "subagent work")
