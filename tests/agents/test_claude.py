"""Claude Code (the pinned `claude` CLI) with agent-sync installed, against a scripted model.

Each test installs agent-sync into a fresh repository with
`python3 agent-sync.pyz install`, runs `claude -p` once against
FakeAnthropic, and asserts on what reached the model and on the disk.
Claude Code's Edit and Write tools refuse a file the session has not
Read, so scripts Read before they edit.
"""

import json
import uuid

import pytest
from fake_anthropic import FakeAnthropic, first_user_text
from harness import Call, Reply, cli_binary, recorded, recorder_command, wait_until

from agent_sync.core.identity import session_agent_id
from agent_sync.core.sanitize import FRAME_OPEN as FRAME

OTHER = "other-agent"
BLOCKED = "[agent-sync] BLOCKED: src/a.py is locked by other-agent"
HOOK_EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure", "Stop",
               "SubagentStart", "SubagentStop", "PreCompact", "PostCompact", "SessionEnd")


class Claude:
    """One repository with agent-sync installed, and `claude -p` runs in it."""

    def __init__(self, sandbox, binary):
        self.box = sandbox
        self.binary = binary
        self.session = str(uuid.uuid4())
        self.me = session_agent_id(self.session)
        self.payloads = sandbox.base / "payloads"

    def setup(self, files=None, install=True):
        files = files or {"src/a.py": "x = 1\n", "src/b.py": "y = 1\n"}
        for rel, text in files.items():
            self.box.write(rel, text)
        self.box.commit()
        if install:
            self.box.install()
        return self

    def record_payloads(self):
        """Also save every hook payload Claude Code sends (settings.local.json hooks merge with ours)."""
        self.payloads.mkdir(exist_ok=True)
        hooks = {event: [{"hooks": [{"type": "command",
                                     "command": recorder_command(self.box.python, self.payloads, event)}]}]
                 for event in HOOK_EVENTS}
        (self.box.repo / ".claude" / "settings.local.json").write_text(json.dumps({"hooks": hooks}))

    def payloads_of(self, event):
        return [p for label, p in recorded(self.payloads) if label == event]

    def path(self, rel):
        return str(self.box.path(rel))

    def run(self, server, prompt="Work on the repository.", *extra, resume=False, timeout=90, env=None):
        """One `claude -p` run (`resume`: go on with this session's conversation)."""
        with server:
            environ = self.box.env(
                ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-ant-tier-test",
                CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_TELEMETRY="1", DISABLE_AUTOUPDATER="1",
                DISABLE_ERROR_REPORTING="1", IS_SANDBOX="1", **(env or {}))
            argv = [self.binary, "-p", prompt, "--dangerously-skip-permissions",
                    "--resume" if resume else "--session-id", self.session, "--output-format", "json", *extra]
            result = self.box.run(argv, environ, timeout=timeout)
        server.check()
        assert result.code == 0, f"{result!r}\n{server.summary()}"
        return result


@pytest.fixture
def claude(sandbox):
    return Claude(sandbox, cli_binary("claude"))


def read(path):
    return Call("Read", {"file_path": path})


def edit(path, old, new):
    return Call("Edit", {"file_path": path, "old_string": old, "new_string": new})


def bash(command):
    return Call("Bash", {"command": command, "description": "run a command"})


def assert_refused(server, call, path="src/a.py", owner=OTHER):
    """The model saw our reason and nothing of ours besides: no command line, no archive path.

    `PreToolUse:<tool> hook error: ` is how Claude Code introduces any denial, JSON or exit 2;
    an exit-2 refusal would add the hook's whole command line after it.
    """
    text = server.result_of(call)
    assert text.startswith(f"PreToolUse:{call.name} hook error: [agent-sync] BLOCKED: {path} is locked by {owner}"), text
    assert "python3" not in text and "agent_sync.hooks" not in text and ".pyz" not in text, text


# ---------------------------------------------------------------------------
# Locks

def test_lock_held_by_another_agent_stops_edit_write_and_bash(claude):
    claude.setup().box.cli("lock", "src/a.py", "--reason", "refactor", agent=OTHER)
    a = claude.path("src/a.py")
    calls = [edit(a, "x = 1", "x = 2"), Call("Write", {"file_path": a, "content": "x = 3\n"}),
             bash("echo x = 4 > src/a.py"), bash("cd src && sed -i s/1/5/ a.py")]
    server = FakeAnthropic(Reply(read(a)), *[Reply(call) for call in calls], Reply(text="Stopped: the file is locked."))
    claude.run(server)
    for call in calls:
        assert_refused(server, call)
    assert claude.box.read("src/a.py") == "x = 1\n"


def test_refusals_are_logged_in_the_activity_feed(claude):
    claude.setup().box.cli("lock", "src/a.py", agent=OTHER)
    a = claude.path("src/a.py")
    server = FakeAnthropic(Reply(read(a)), Reply(edit(a, "x = 1", "x = 2")), Reply(bash("rm src/a.py")))
    claude.run(server)
    refused = [row for row in claude.box.activity() if row["agent"] == claude.me and row["type"] == "blocked"]
    assert [row["path"] for row in refused] == ["src/a.py", "src/a.py"], claude.box.activity()
    assert "Edit" in refused[0]["message"] and OTHER in refused[0]["message"], refused
    assert claude.box.read("src/a.py") == "x = 1\n"


def test_locked_notebook_stops_notebook_edit(claude):
    notebook = {"cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "source": "1", "outputs": [],
                           "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(notebook)
    claude.setup({"nb.ipynb": text}).box.cli("lock", "nb.ipynb", agent=OTHER)
    nb = claude.path("nb.ipynb")
    change = Call("NotebookEdit", {"notebook_path": nb, "cell_id": "c1", "new_source": "2"})
    server = FakeAnthropic(Reply(Call("ToolSearch", {"query": "select:NotebookEdit"})), Reply(read(nb)),
                           Reply(change))
    claude.run(server)
    assert_refused(server, change, path="nb.ipynb")
    assert claude.box.read("nb.ipynb") == text


def test_free_edit_goes_through_and_is_logged(claude):
    claude.setup().box.cli("lock", "src/a.py", agent=OTHER)
    b = claude.path("src/b.py")
    change = edit(b, "y = 1", "y = 2")
    server = FakeAnthropic(Reply(read(b)), Reply(change))
    claude.run(server)
    assert "updated successfully" in server.result_of(change)
    assert claude.box.read("src/b.py") == "y = 2\n"
    edits = [row for row in claude.box.activity() if row["type"] == "edit"]
    assert [(row["agent"], row["path"]) for row in edits] == [(claude.me, "src/b.py")], edits


def test_a_lock_taken_from_its_own_shell_never_blocks_its_own_edit(claude):
    claude.setup()
    b = claude.path("src/b.py")
    take = bash("python3 .claude/skills/agent-sync/agent-sync.pyz lock src/b.py --reason mine")
    change = edit(b, "y = 1", "y = 2")
    server = FakeAnthropic(Reply(take), Reply(read(b)), Reply(change), Reply(bash("echo y = 3 >> src/b.py")))
    claude.run(server)
    assert "locked src/b.py" in server.result_of(take).lower(), server.result_of(take)
    assert "updated successfully" in server.result_of(change)
    assert claude.box.read("src/b.py") == "y = 2\ny = 3\n"
    assert [(lk["path"], lk["owner"]) for lk in claude.box.locks()] == [("src/b.py", claude.me)]


# ---------------------------------------------------------------------------
# State and messages in the model's view

def test_session_start_puts_the_coordination_state_in_context(claude):
    claude.setup().box.cli("lock", "src/a.py", "--reason", "refactor", agent=OTHER)
    claude.box.cli("create-task", "Write the parser", agent=OTHER)
    server = FakeAnthropic(Reply(text="I see the state."))
    claude.run(server)
    first = "\n".join(server.texts(server.turns[0]))
    assert FRAME in first and f"you are {claude.me}" in first, first[:3000]
    assert "src/a.py -> other-agent" in first and "Write the parser" in first


def test_waiting_messages_are_pushed_with_the_prompt_once(claude):
    claude.setup()
    claude.box.cli("register", "--name", "worker", env={"CLAUDE_CODE_SESSION_ID": claude.session})
    claude.box.cli("send", "--to", "worker", "--message", "please review src/b.py", agent=OTHER)
    claude.box.cli("send", "--to", "all", "--message", "main is frozen", agent=OTHER)
    server = FakeAnthropic(Reply(read(claude.path("src/b.py"))), Reply(text="Read it."))
    claude.run(server)
    last = "\n".join(server.texts(server.turns[-1]))
    assert last.count("please review src/b.py") == 1 and last.count("main is frozen") == 1, last[-3000:]
    assert FRAME in last
    assert claude.box.json("inbox", agent=claude.me)["messages"] == []


def test_a_directed_message_holds_the_stop_once(claude):
    claude.setup()
    claude.record_payloads()

    def send(_request):
        claude.box.cli("send", "--to", claude.me, "--message", "stop and rebase first", agent=OTHER)
        claude.box.cli("send", "--to", claude.me, "--message", "and then run the tests", agent=OTHER)

    server = FakeAnthropic(Reply(read(claude.path("src/b.py"))), Reply(text="Finished.", before=send),
                           Reply(text="Rebased as asked."))
    claude.run(server)
    stops = claude.payloads_of("Stop")
    assert [s["stop_hook_active"] for s in stops] == [False, True], stops
    last = "\n".join(server.texts(server.turns[-1]))
    assert last.count("stop and rebase first") == 1 and last.count("and then run the tests") == 1, last[-3000:]
    assert FRAME in last and "hook blocking error" not in last and "agent_sync.hooks" not in last, last[-3000:]
    assert len(server.turns) == 3


def test_the_state_is_back_in_context_after_a_compaction(claude):
    """A reply that reports a nearly full context makes Claude Code compact in the middle of the chain."""
    claude.setup()
    claude.record_payloads()

    def lock(_request):
        claude.box.cli("lock", "src/a.py", "--reason", "taken while you worked", agent=OTHER)

    server = FakeAnthropic(Reply(read(claude.path("src/b.py"))),
                           Reply(read(claude.path("src/a.py")), before=lock, input_tokens=995_000),
                           Reply(bash("true")), Reply(text="Done."))
    claude.run(server)
    assert server.compactions, "Claude Code did not compact"
    assert [p["source"] for p in claude.payloads_of("SessionStart")] == ["startup", "compact"]
    after = [r for r in server.turns if r.at > server.compactions[-1].at]
    assert after, server.summary()
    seen = "\n".join(server.texts(after[0]))
    # the lock did not exist at startup: only the post-compaction context can show it
    assert FRAME in seen and "src/a.py -> other-agent" in seen, seen[-3000:]


def test_an_untrusted_folder_still_runs_the_hooks_in_print_mode(claude):
    """`claude -p` skips the workspace trust dialog, and with it any trust record: hooks run."""
    claude.setup().box.cli("lock", "src/a.py", agent=OTHER)
    settings = claude.box.home / ".claude.json"
    assert not settings.exists() or '"hasTrustDialogAccepted": true' not in settings.read_text()
    a = claude.path("src/a.py")
    change = edit(a, "x = 1", "x = 2")
    server = FakeAnthropic(Reply(read(a)), Reply(change))
    claude.run(server)
    assert_refused(server, change)
    assert claude.box.read("src/a.py") == "x = 1\n"
    projects = json.loads(settings.read_text()).get("projects", {}) if settings.exists() else {}
    assert not any(p.get("hasTrustDialogAccepted") for p in projects.values()), projects


# ---------------------------------------------------------------------------
# Subagents

def _parent(request):
    return "SUBAGENT" not in first_user_text(request)


def _child(request):
    return "SUBAGENT" in first_user_text(request)


def _spawn(prompt="SUBAGENT: edit src/b.py"):
    return Call("Agent", {"description": "edit b", "prompt": prompt, "subagent_type": "general-purpose"})


def _parent_stopped_while_a_task_ran(claude):
    def condition():
        return any(s.get("background_tasks") for s in claude.payloads_of("Stop"))
    return condition


def test_a_message_sent_while_a_subagent_works_reaches_the_parent_once(claude):
    """The subagent's SubagentStop must leave the parent's message alone: the subagent's context is discarded."""
    claude.setup()
    claude.record_payloads()
    b = claude.path("src/b.py")

    def hold(_request):  # the parent first stops (its subagent still running) with nothing waiting
        wait_until(_parent_stopped_while_a_task_ran(claude))

    def send(_request):
        claude.box.cli("send", "--to", claude.me, "--message", "coordinate with me on b.py", agent=OTHER)

    server = FakeAnthropic(
        Reply(_spawn(), match=_parent), Reply(text="Waiting for the subagent.", match=_parent),
        Reply(read(b), match=_child, before=hold), Reply(edit(b, "y = 1", "y = 2"), match=_child, before=send),
        Reply(text="Subagent finished.", match=_child), final_text="Done.")
    claude.run(server, timeout=120)
    assert claude.box.read("src/b.py") == "y = 2\n"
    assert claude.payloads_of("SubagentStop"), "no SubagentStop fired"
    child = [t for r in server.turns if _child(r) for t in server.texts(r)]
    assert not any("coordinate with me" in t for t in child), "the subagent was shown the parent's message"
    parent_last = server.texts([r for r in server.turns if _parent(r)][-1])
    assert sum(t.count("coordinate with me on b.py") for t in parent_last) == 1, server.summary()


def test_a_stop_while_a_subagent_runs_delivers_the_message_once(claude):
    """The parent's Stop fires with the subagent in `background_tasks`: the message is handed over once."""
    claude.setup()
    claude.record_payloads()
    b = claude.path("src/b.py")

    def send(_request):
        claude.box.cli("send", "--to", claude.me, "--message", "merge window opens at noon", agent=OTHER)

    def hold(_request):
        wait_until(_parent_stopped_while_a_task_ran(claude))

    server = FakeAnthropic(
        Reply(_spawn(), match=_parent), Reply(text="Waiting for the subagent.", match=_parent, before=send),
        Reply(read(b), match=_child, before=hold), Reply(text="Subagent finished.", match=_child), final_text="Done.")
    claude.run(server, timeout=120)
    stops = claude.payloads_of("Stop")
    assert stops[0]["background_tasks"] and stops[0]["stop_hook_active"] is False, stops
    parent_last = server.texts([r for r in server.turns if _parent(r)][-1])
    assert sum(t.count("merge window opens at noon") for t in parent_last) == 1, server.summary()
    child = [t for r in server.turns if _child(r) for t in server.texts(r)]
    assert not any("merge window" in t for t in child)


def test_a_subagent_starts_with_the_coordination_state(claude):
    claude.setup().box.cli("lock", "src/a.py", "--reason", "refactor", agent=OTHER)
    server = FakeAnthropic(Reply(_spawn("SUBAGENT: look around"), match=_parent),
                           Reply(text="Looked.", match=_child), final_text="Done.")
    claude.run(server, timeout=120)
    child = "\n".join(t for r in server.turns if _child(r) for t in server.texts(r))
    assert FRAME in child and "src/a.py -> other-agent" in child, child[-3000:]
