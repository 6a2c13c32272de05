"""Mid-turn delivery and the idle wake in the real agent programs, against a scripted model.

Busy: while the scripted model is in a chain of tool calls, another agent
sends a message; it must be in the model's very next request, beside the
result of the tool that ran after the send, and only there, in Claude Code,
Codex, Gemini and Copilot (each through its own post-tool hook).

Idle: print mode ends the session with its prompt, so the idle wake is shown
in an interactive Claude Code, run in a pseudo-terminal: after its turn ends,
a directed message must start a new model request carrying it, once, and the
waiter must be gone when the session ends, however it ends.
"""

import json
import os
import pty
import select
import signal
import time
import uuid
from pathlib import Path

import pytest
from drivers import Codex, Gemini
from fake_anthropic import FakeAnthropic
from fake_openai_chat import FakeOpenAIChat
from harness import Call, Reply, wait_until
from test_claude import OTHER, bash, claude  # noqa: F401 - the claude fixture
from test_copilot import bash as copilot_bash
from test_copilot import copilot  # noqa: F401 - the copilot fixture


def note():
    return f"MIDTURN {uuid.uuid4().hex[:8]}: stop, login() is being renamed to sign_in()"


def shown(server, request, text):
    return sum(t.count(text) for t in server.texts(request))


# ---------------------------------------------------------------------------
# Busy: the message arrives after the next tool call, not at the end of the turn


def test_claude_reads_a_message_after_the_next_tool_result(claude):
    claude.setup()
    text = note()
    first, second, third = bash("echo one"), bash("echo two"), bash("echo three")

    def send(_request):
        claude.box.cli("send", "--to", claude.me, "--message", text, agent=OTHER)

    server = FakeAnthropic(Reply(first), Reply(second, before=send), Reply(third), Reply(text="Done."))
    claude.run(server)
    turns = server.turns
    assert len(turns) >= 4, server.summary()
    assert [shown(server, r, text) for r in turns[:2]] == [0, 0], server.summary()
    assert shown(server, turns[2], text) == 1, server.summary()  # right after `second`, mid-chain
    assert "two" in server.result_of(second) and server.tool_results(turns[2]).get(second.id) is not None
    assert shown(server, turns[-1], text) == 1  # and never again: not at the stop, not twice
    assert claude.box.json("inbox", agent=claude.me)["messages"] == []


def test_claude_push_prompt_keeps_it_for_the_stop(claude):
    claude.setup()
    text = note()

    def send(_request):
        claude.box.cli("send", "--to", claude.me, "--message", text, agent=OTHER)

    server = FakeAnthropic(Reply(bash("echo one")), Reply(bash("echo two"), before=send), Reply(text="Finished."),
                           Reply(text="Read the message."))
    claude.run(server, env={"AGENT_SYNC_PUSH": "prompt"})
    counts = [shown(server, r, text) for r in server.turns]
    assert counts[:3] == [0, 0, 0] and counts[3:] == [1] * len(counts[3:]), server.summary()


@pytest.mark.parametrize("agent", ["codex", "gemini"])
def test_codex_and_gemini_read_a_message_after_the_next_tool_result(sandbox, agent):
    driver = (Codex if agent == "codex" else Gemini)(sandbox).setup()
    tool, arg = ("exec_command", "cmd") if agent == "codex" else ("run_shell_command", "command")
    first, second, third = (Call(tool, {arg: f"echo {n}"}) for n in ("one", "two", "three"))
    text = note()

    def send(_request):
        driver.box.cli("send", "--to", driver.session_agent(), "--message", text, agent=OTHER)

    server = driver.server(Reply(first), Reply(second, before=send), Reply(third), Reply(text="Done."))
    driver.run(server)
    turns = server.turns
    assert [shown(server, r, text) for r in turns[:2]] == [0, 0], server.summary()
    assert shown(server, turns[2], text) == 1, server.summary()  # with the result of `second`, mid-chain
    assert "two" in server.result_of(second)
    assert shown(server, turns[-1], text) == 1, server.summary()  # once, for the rest of the conversation
    assert driver.box.json("inbox", agent=driver.session_agent())["messages"] == []


def test_copilot_reads_a_message_after_the_next_tool_result(copilot):
    copilot.setup()
    text = note()
    first, second, third = copilot_bash("echo one"), copilot_bash("echo two"), copilot_bash("echo three")

    def send(_request):
        copilot.box.cli("send", "--to", copilot.me, "--message", text, agent=OTHER)

    server = FakeOpenAIChat(Reply(first), Reply(second, before=send), Reply(third), Reply(text="Done."))
    copilot.run(server)
    turns = server.turns
    assert [shown(server, r, text) for r in turns[:2]] == [0, 0], server.summary()
    assert shown(server, turns[2], text) == 1 and text in server.result_of(second), server.summary()
    assert shown(server, turns[-1], text) == 1
    assert copilot.box.json("inbox", agent=copilot.me)["messages"] == []


# ---------------------------------------------------------------------------
# Idle: an interactive Claude Code, woken by a directed message


class Interactive:
    """`claude` in a pseudo-terminal, as a person runs it, with onboarding already done."""

    def __init__(self, claude_run, server):
        self.c = claude_run
        self.server = server.start()  # its URL goes into the environment
        box = claude_run.box
        settings = {"hasCompletedOnboarding": True, "theme": "dark", "bypassPermissionsModeAccepted": True,
                    "customApiKeyResponses": {"approved": ["sk-ant-tier-test"[-20:]], "rejected": []},
                    "projects": {str(box.repo): {"hasTrustDialogAccepted": True,
                                                 "hasCompletedProjectOnboarding": True}}}
        (box.home / ".claude.json").write_text(json.dumps(settings))
        user = box.home / ".claude" / "settings.json"  # no release or model-catalog downloads from loopback tests
        user.parent.mkdir(parents=True, exist_ok=True)
        user.write_text(json.dumps({"autoUpdates": False, "modelCatalogUrl": f"{self.server.url}/model-catalog.json"}))
        self.env = box.env(ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-ant-tier-test",
                           CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_TELEMETRY="1",
                           DISABLE_AUTOUPDATER="1", DISABLE_ERROR_REPORTING="1", IS_SANDBOX="1",
                           CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL="1", TERM="xterm-256color")
        self.env.pop("CI", None)  # CI makes Claude Code refuse an interactive start
        self.pid = self.fd = None
        self.screen = b""

    def __enter__(self):
        argv = [str(self.c.binary), "--dangerously-skip-permissions", "--session-id", self.c.session]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become claude
            os.chdir(self.c.box.repo)
            os.execve(argv[0], argv, self.env)
        self.pump(until=lambda: b"effort" in self.screen or b"\xe2\x94\x80" in self.screen, timeout=30)
        return self

    def pump(self, until=None, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.screen += os.read(self.fd, 65536)
                except OSError:
                    return False
            if until and until():
                return True
        return False

    def type(self, line):
        for ch in line:
            os.write(self.fd, ch.encode())
            time.sleep(0.03)
        time.sleep(0.3)
        os.write(self.fd, b"\r")

    def exited(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(timeout=0.1)
            done, _status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return True
        return False

    def __exit__(self, *_exc):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (OSError, ChildProcessError):
            pass
        os.close(self.fd)
        self.server.stop()


def waiters(repo):
    """Pids of idle-wake hooks of this repository that are still running."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if state != "Z" and b"idle-wake" in argv and any(str(repo).encode() in a for a in argv):
            found.append(int(entry.name))
    return found


def token(box, agent):
    return box.repo / ".claude" / "coordination" / "wake" / agent


def test_claude_idle_session_wakes_for_a_directed_message_once(claude):
    claude.setup()
    text = note()
    server = FakeAnthropic(Reply(text="First answer."), Reply(text="Reading the message now."),
                           final_text="Nothing else.")
    with Interactive(claude, server) as tui:
        tui.type("say hi")
        assert tui.pump(until=lambda: len(server.turns) >= 1, timeout=30), tui.screen[-2000:]
        wait_until(lambda: token(claude.box, claude.me).exists(), timeout=20)  # the turn ended: it waits
        time.sleep(1.0)
        assert len(server.turns) == 1 and waiters(claude.box.repo), server.summary()
        claude.box.cli("send", "--to", "all", "--message", "a broadcast stays for the next prompt", agent=OTHER)
        tui.pump(timeout=1.5)
        assert len(server.turns) == 1, "a broadcast woke the session"
        claude.box.cli("send", "--to", claude.me, "--message", text, agent=OTHER)
        sent = time.time()
        assert tui.pump(until=lambda: len(server.turns) >= 2, timeout=20), tui.screen[-2000:]
        woke = server.turns[1]
        assert shown(server, woke, text) == 1, server.summary()
        print(f"idle wake: message sent -> model request in {woke.at - sent:.2f} s")
        wait_until(lambda: token(claude.box, claude.me).exists(), timeout=20)  # idle again, a new waiter
        tui.pump(timeout=1.0)
        assert len(server.turns) == 2, "the same message woke the session twice"
        assert shown(server, server.turns[-1], "a broadcast stays") <= 1  # it rode along once it was awake
        tui.type("/exit")
        assert tui.exited(20), tui.screen[-2000:]
    wait_until(lambda: not waiters(claude.box.repo), timeout=3)  # SessionEnd retired the last waiter
    assert not token(claude.box, claude.me).exists()


def test_claude_killed_while_idle_leaves_no_waiter(claude):
    claude.setup()
    server = FakeAnthropic(Reply(text="First answer."), final_text="Nothing else.")
    with Interactive(claude, server) as tui:
        tui.type("say hi")
        assert tui.pump(until=lambda: len(server.turns) >= 1, timeout=30), tui.screen[-2000:]
        wait_until(lambda: token(claude.box, claude.me).exists() and waiters(claude.box.repo), timeout=20)
        os.kill(tui.pid, signal.SIGKILL)  # no SessionEnd hook runs
        os.waitpid(tui.pid, 0)  # reaped, as the shell that started it would
        wait_until(lambda: not waiters(claude.box.repo), timeout=3)
