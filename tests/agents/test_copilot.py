"""GitHub Copilot CLI (the pinned `copilot`) with `install --agent copilot`, against a scripted model.

Copilot runs `-p` prompts against FakeOpenAIChat through its bring-your-own-
model variables, offline. It loads a repository's hooks only from a trusted
folder; the tests trust the folder as a user does when answering "trust
this folder for future sessions": `trustedFolders` in ~/.copilot/config.json.
"""

import json
import uuid

import pytest
from fake_openai_chat import FakeOpenAIChat, first_user_text
from harness import Call, Reply, cli_binary, recorded, recorder_command

from agent_sync.core.identity import session_agent_id
from agent_sync.core.sanitize import FRAME_OPEN as FRAME

OTHER = "other-agent"
HOOK_EVENTS = ("sessionStart", "userPromptSubmitted", "preToolUse", "postToolUse", "postToolUseFailure", "agentStop",
               "subagentStart", "subagentStop", "sessionEnd", "errorOccurred")


class Copilot:
    """One repository with agent-sync installed for Copilot, and `copilot -p` runs in it."""

    def __init__(self, sandbox, binary):
        self.box = sandbox
        self.binary = binary
        self.session = str(uuid.uuid4())
        self.me = session_agent_id(self.session)
        self.payloads = sandbox.base / "payloads"

    def setup(self, files=None, install=True, trust=True):
        files = files or {"src/a.py": "x = 1\n", "src/b.py": "y = 1\n"}
        for rel, text in files.items():
            self.box.write(rel, text)
        self.box.commit()
        if trust:
            self.trust()
        self.installed = self.box.install("copilot") if install else None
        return self

    def trust(self):
        """What Copilot saves when the user trusts the folder for future sessions."""
        folder = self.box.home / ".copilot"
        folder.mkdir(exist_ok=True)
        (folder / "config.json").write_text(json.dumps({"trustedFolders": [str(self.box.repo)]}))

    def record_payloads(self):
        """Also save every hook payload Copilot sends (every .github/hooks/*.json file is loaded)."""
        self.payloads.mkdir(exist_ok=True)
        hooks = {event: [{"type": "command", "bash": recorder_command(self.box.python, self.payloads, event),
                          "timeoutSec": 10}] for event in HOOK_EVENTS}
        target = self.box.repo / ".github" / "hooks" / "record.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"version": 1, "hooks": hooks}))

    def payloads_of(self, event):
        return [p for label, p in recorded(self.payloads) if label == event]

    def path(self, rel):
        return str(self.box.path(rel))

    def run(self, server, prompt="Work on the repository.", *extra, timeout=90, env=None):
        with server:
            environ = self.box.env(
                COPILOT_PROVIDER_BASE_URL=server.url + "/v1", COPILOT_PROVIDER_API_KEY="sk-tier-test",
                COPILOT_MODEL="gpt-4.1", COPILOT_OFFLINE="true", COPILOT_AUTO_UPDATE="false", **(env or {}))
            argv = [self.binary, "-p", prompt, "--allow-all-tools", "--disable-client-telemetry", "--no-auto-update",
                    "--no-ask-user", "--session-id", self.session, *extra]
            result = self.box.run(argv, environ, timeout=timeout)
        server.check()
        assert result.code == 0, f"{result!r}\n{server.summary()}"
        return result


@pytest.fixture
def copilot(sandbox):
    return Copilot(sandbox, cli_binary("copilot"))


def view(path):
    return Call("view", {"path": path})


def edit(path, old, new):
    return Call("edit", {"path": path, "old_str": old, "new_str": new})


def bash(command):
    return Call("bash", {"command": command, "description": "run a command"})


def assert_refused(server, call, path="src/a.py", owner=OTHER):
    text = server.result_of(call)
    assert f"[agent-sync] BLOCKED: {path} is locked by {owner}" in text, text
    assert "python3" not in text and "agent_sync.hooks" not in text, text


# ---------------------------------------------------------------------------
# Locks

def test_lock_held_by_another_agent_stops_edit_create_and_bash(copilot):
    copilot.setup().box.cli("lock", "src/a.py", "src/new.py", "--reason", "refactor", agent=OTHER)
    a = copilot.path("src/a.py")
    calls = [edit(a, "x = 1", "x = 2"), bash("echo x = 4 > src/a.py"), bash("cd src && sed -i s/1/5/ a.py")]
    create = Call("create", {"path": copilot.path("src/new.py"), "file_text": "new\n"})
    server = FakeOpenAIChat(Reply(view(a)), *[Reply(call) for call in calls], Reply(create),
                            Reply(text="Stopped: the files are locked."))
    copilot.run(server)
    for call in calls:
        assert_refused(server, call)
    assert_refused(server, create, path="src/new.py")
    assert copilot.box.read("src/a.py") == "x = 1\n"
    assert not copilot.box.path("src/new.py").exists()


def test_refusals_are_logged_in_the_activity_feed(copilot):
    copilot.setup().box.cli("lock", "src/a.py", agent=OTHER)
    server = FakeOpenAIChat(Reply(edit(copilot.path("src/a.py"), "x = 1", "x = 2")), Reply(bash("rm src/a.py")))
    copilot.run(server)
    refused = [row for row in copilot.box.activity() if row["agent"] == copilot.me and row["type"] == "blocked"]
    assert [row["path"] for row in refused] == ["src/a.py", "src/a.py"], copilot.box.activity()
    assert copilot.box.read("src/a.py") == "x = 1\n"


def test_free_edit_goes_through_and_is_logged(copilot):
    copilot.setup().box.cli("lock", "src/a.py", agent=OTHER)
    change = edit(copilot.path("src/b.py"), "y = 1", "y = 2")
    server = FakeOpenAIChat(Reply(change))
    copilot.run(server)
    assert "updated with changes" in server.result_of(change)
    assert copilot.box.read("src/b.py") == "y = 2\n"
    edits = [row for row in copilot.box.activity() if row["type"] == "edit"]
    assert [(row["agent"], row["path"]) for row in edits] == [(copilot.me, "src/b.py")], edits


def test_a_lock_taken_from_its_own_shell_never_blocks_its_own_edit(copilot):
    copilot.setup()
    take = bash("python3 .claude/skills/agent-sync/agent-sync.pyz lock src/b.py --reason mine")
    change = edit(copilot.path("src/b.py"), "y = 1", "y = 2")
    server = FakeOpenAIChat(Reply(take), Reply(change), Reply(bash("echo y = 3 >> src/b.py")))
    copilot.run(server)
    assert "locked src/b.py" in server.result_of(take).lower(), server.result_of(take)
    assert "updated with changes" in server.result_of(change)
    assert copilot.box.read("src/b.py") == "y = 2\ny = 3\n"
    assert [(lk["path"], lk["owner"]) for lk in copilot.box.locks()] == [("src/b.py", copilot.me)]


def test_two_sessions_are_two_agents(copilot):
    """Copilot exports the session id to its shell, so each session is its own agent."""
    copilot.setup()
    server = FakeOpenAIChat(Reply(bash("python3 .claude/skills/agent-sync/agent-sync.pyz lock src/b.py")))
    copilot.run(server)
    other = Copilot(copilot.box, copilot.binary)
    change = edit(other.path("src/b.py"), "y = 1", "y = 2")
    second = FakeOpenAIChat(Reply(change))
    other.run(second)
    assert_refused(second, change, path="src/b.py", owner=copilot.me)
    assert copilot.box.read("src/b.py") == "y = 1\n"


# ---------------------------------------------------------------------------
# State and messages in the model's view

def test_session_start_puts_the_coordination_state_in_context(copilot):
    copilot.setup().box.cli("lock", "src/a.py", "--reason", "refactor", agent=OTHER)
    copilot.box.cli("create-task", "Write the parser", agent=OTHER)
    server = FakeOpenAIChat(Reply(text="I see the state."))
    copilot.run(server)
    first = "\n".join(server.texts(server.turns[0]))
    assert FRAME in first and f"you are {copilot.me}" in first, first[-3000:]
    assert "src/a.py -> other-agent" in first and "Write the parser" in first


def test_waiting_messages_are_pushed_with_the_prompt_once(copilot):
    copilot.setup()
    copilot.box.cli("register", "--name", "worker", env={"COPILOT_AGENT_SESSION_ID": copilot.session})
    copilot.box.cli("send", "--to", "worker", "--message", "please review src/b.py", agent=OTHER)
    copilot.box.cli("send", "--to", "all", "--message", "main is frozen", agent=OTHER)
    server = FakeOpenAIChat(Reply(view(copilot.path("src/b.py"))), Reply(text="Read it."))
    copilot.run(server)
    last = "\n".join(server.texts(server.turns[-1]))
    assert last.count("please review src/b.py") == 1 and last.count("main is frozen") == 1, last[-3000:]
    assert copilot.box.json("inbox", agent=copilot.me)["messages"] == []


def test_a_directed_message_holds_the_stop_once(copilot):
    copilot.setup()
    copilot.record_payloads()

    def send(_request):
        copilot.box.cli("send", "--to", copilot.me, "--message", "stop and rebase first", agent=OTHER)
        copilot.box.cli("send", "--to", copilot.me, "--message", "and then run the tests", agent=OTHER)

    server = FakeOpenAIChat(Reply(view(copilot.path("src/b.py"))), Reply(text="Finished.", before=send),
                            Reply(text="Rebased as asked."))
    copilot.run(server)
    stops = [s for s in copilot.payloads_of("agentStop") if not s.get("parentAgentId")]
    assert [s["stop_hook_active"] for s in stops] == [False, True], stops
    views = "\n".join(server.texts(server.turns[-1]))
    assert views.count("stop and rebase first") == 1 and views.count("and then run the tests") == 1, views[-3000:]
    assert len(server.turns) == 3


def _parent(request):
    return "SUBAGENT" not in first_user_text(request)


def _child(request):
    return "SUBAGENT" in first_user_text(request)


def test_a_message_sent_while_a_subagent_works_reaches_the_parent_once(copilot):
    copilot.setup()
    b = copilot.path("src/b.py")

    def send(_request):
        copilot.box.cli("send", "--to", copilot.me, "--message", "coordinate with me on b.py", agent=OTHER)

    spawn = Call("task", {"name": "editor", "description": "edit b", "prompt": "SUBAGENT: edit src/b.py",
                          "agent_type": "general-purpose"})
    server = FakeOpenAIChat(
        Reply(spawn, match=_parent), Reply(edit(b, "y = 1", "y = 2"), match=_child, before=send),
        Reply(text="Subagent finished.", match=_child), Reply(text="All done.", match=_parent), final_text="Done.")
    copilot.run(server)
    assert copilot.box.read("src/b.py") == "y = 2\n"
    child = [t for r in server.turns if _child(r) for t in server.texts(r)]
    assert not any("coordinate with me" in t for t in child), "the subagent took the parent's message"
    parent_last = server.texts([r for r in server.turns if _parent(r)][-1])
    assert sum(t.count("coordinate with me on b.py") for t in parent_last) == 1, server.summary()


# ---------------------------------------------------------------------------
# Trust

def test_untrusted_folder_runs_no_hook_and_doctor_says_so(copilot):
    """Copilot skips the hooks of a folder that is not trusted: the lock is not enforced, silently."""
    copilot.setup(trust=False).box.cli("lock", "src/a.py", agent=OTHER)
    told = copilot.installed.out
    assert "NOT ENFORCED YET" in told and "trustedFolders" in told and str(copilot.box.repo) in told, told
    change = edit(copilot.path("src/a.py"), "x = 1", "x = 2")
    copilot.run(FakeOpenAIChat(Reply(change)))
    assert copilot.box.read("src/a.py") == "x = 2\n", "a hook ran in an untrusted folder"
    doctor = copilot.box.cli("doctor", check=8)
    assert "copilot" in doctor.out.lower() and "trust" in doctor.out.lower(), doctor
    assert "trustedFolders" in doctor.out and str(copilot.box.repo) in doctor.out, doctor
    copilot.trust()
    assert copilot.box.cli("doctor", check=None).code != 8, "doctor still reports a trusted folder as untrusted"
