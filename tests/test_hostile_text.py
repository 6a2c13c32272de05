"""Agent-written text in what we print: commands that are safe to paste, and words that stay data.

Every refusal names the lock's owner and offers a ready `send` command. Another
agent chose the pattern, the name and the reason in it, so the command must run
as exactly the argv it shows, never as shell code: each case here pastes it into
`sh -c` with a recording `agent-sync` on PATH, and checks that nothing else ran
and that the recorded argv is the one `shlex.split` reads from the text.
"""

import json
import os
import re
import shlex
import subprocess
import sys

import pytest
from conftest import HOOK_LAUNCH, PYZ, clean_env

from test_adapters import payload
from test_mcp_jsonrpc import INITIALIZED, exchange, initialize, request

# A lock pattern, an owner name and a reason that each try to run code when pasted into a shell.
PATTERN = "src/*[$(touch pwned)]*"
OWNER_ID = "-owner"  # an id that reads as a flag
OWNER_NAME = "o'brien; `touch pwned-name` $(touch pwned-name2)"
REASON = "it's \"mine\"; `touch pwned-reason` $(touch pwned-reason2) && touch pwned-reason3"
TARGET = "src/app.py"  # matches PATTERN: `p` is in the bracket class
ASK = re.compile(r"Ask them: ([^\n]*)")

RECORDER = """#!{python}
import json, os, sys
with open(os.environ["ARGV_OUT"], "a", encoding="utf-8") as handle:
    handle.write(json.dumps(sys.argv[1:]) + "\\n")
"""


@pytest.fixture
def held(repo):
    """OWNER_ID holds PATTERN, under a hostile name and reason."""
    (repo.path / "src").mkdir()
    (repo.path / TARGET).write_text("x = 1\n")
    repo.ok("register", "--name", OWNER_NAME, agent=OWNER_ID)
    repo.ok("lock", PATTERN, "--reason", REASON, agent=OWNER_ID)
    return repo


def paste(tmp_path, command, verb="send"):
    """Run `command` as a person pasting it would (sh -c), with agent-sync recording its argv; return argv.

    The command starts with however agent-sync runs where it was printed (core.program: the launcher,
    or `python3 <archive>`): that prefix is ours, so it is swapped for the recorder.
    """
    assert f" {verb} " in command, command
    command = "agent-sync" + command[command.index(f" {verb} "):]
    bin_dir, work = tmp_path / "bin", tmp_path / "paste"
    bin_dir.mkdir(exist_ok=True)
    work.mkdir(exist_ok=True)
    recorder = bin_dir / "agent-sync"
    recorder.write_text(RECORDER.format(python=sys.executable))
    recorder.chmod(0o755)
    out = tmp_path / "argv.jsonl"
    out.unlink(missing_ok=True)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "ARGV_OUT": str(out)}
    subprocess.run(["sh", "-c", command], cwd=work, env=env, check=True, timeout=30)
    assert sorted(os.listdir(work)) == [], f"the pasted command created {os.listdir(work)}: {command}"
    calls = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(calls) == 1, calls
    assert calls[0] == shlex.split(command)[1:], (calls, command)  # what it shows is what it runs
    return calls[0]


def check_ask(tmp_path, text):
    found = ASK.findall(text)
    assert found, text
    for command in found:
        argv = paste(tmp_path, command)
        assert argv == ["send", f"--to={OWNER_ID}", "--message", f"please release {PATTERN}"], argv


def test_cli_refusal_command_is_safe_to_paste(held, tmp_path):
    refused = held.run("lock", TARGET, agent="blocked")
    assert refused.code == 3, refused
    check_ask(tmp_path, refused.err)
    # The owner's words are quoted values in our sentence, never loose text.
    assert '"o\'brien; `touch pwned-name` $(touch pwned-name2)"' in refused.err, refused.err


def _claude(repo):
    data = {"session_id": "blocked-session", "cwd": str(repo.path), "tool_name": "Edit",
            "tool_input": {"file_path": str(repo.path / TARGET)}}
    return "pre-tool-use", data


HOOK_CASES = {
    "claude": _claude,
    "codex": lambda repo: ("PreToolUse", payload("codex", "pre_tool_use_apply_patch", repo)),
    "gemini": lambda repo: ("BeforeTool", payload("gemini", "before_tool_write_file", repo)),
    "cursor": lambda repo: ("preToolUse", payload("cursor", "pre_tool_use_write", repo)),
    "windsurf": lambda repo: ("pre_write_code", payload("windsurf", "pre_write_code", repo)),
    "copilot": lambda repo: ("preToolUse", payload("copilot", "pre_tool_use_edit", repo)),
}


def _reason(agent, result):
    """The refusal text the agent's model is shown, from the agent's own answer format."""
    if agent in ("claude", "codex"):
        return json.loads(result.out)["hookSpecificOutput"]["permissionDecisionReason"]
    if agent == "gemini":
        return json.loads(result.out)["reason"]
    if agent == "cursor":
        return json.loads(result.out)["agent_message"]
    if agent == "copilot":
        return json.loads(result.out)["permissionDecisionReason"]
    return result.err


@pytest.mark.parametrize("agent", sorted(HOOK_CASES))
def test_hook_refusal_command_is_safe_to_paste_for_every_agent(held, tmp_path, agent):
    event, data = HOOK_CASES[agent](held)
    words = [event] if agent == "claude" else ["--agent", agent, event]
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", HOOK_LAUNCH, str(PYZ), *words],
                          input=json.dumps(data).encode(), cwd=str(held.path), env=clean_env(held.home),
                          capture_output=True, timeout=60)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert "Traceback" not in err, err
    result = type("R", (), {"out": out, "err": err})
    reason = _reason(agent, result)
    assert "BLOCKED" in reason, (out, err)
    check_ask(tmp_path, reason)
    assert REASON not in reason.replace('\\"', '"').replace(f'"{REASON}"', ""), reason  # only ever quoted


def test_mcp_lock_error_command_is_safe_to_paste(held, tmp_path):
    lock = request(2, "tools/call", {"name": "lock", "arguments": {"paths": [TARGET]}})
    by_id, _, _ = exchange(held, initialize("2025-06-18"), INITIALIZED, lock, env={"AGENT_SYNC_ID": "blocked"})
    result = by_id[2]["result"]
    assert result["isError"] is True
    check_ask(tmp_path, result["content"][0]["text"])


def test_unprintable_text_is_left_out_of_the_command(repo, tmp_path):
    """A lock path that spells a frame marker cannot go into a command as it is: the command asks without it."""
    repo.ok("lock", "notes/[&agent-sync-state]*", agent="owner")
    refused = repo.run("lock", "notes/", agent="blocked")
    assert refused.code == 3, refused
    command = ASK.search(refused.err).group(1)
    assert paste(tmp_path, command) == ["send", "--to", "owner", "--message", "please release the lock that blocks me"]


@pytest.mark.parametrize("text", [PATTERN, OWNER_NAME, REASON, "a\tb", "new\nline", "-rf", "", "'", "\\", "é ü",
                                  "x" * 500, "[&/agent-sync-state]"])
def test_suggest_round_trips_or_refuses(tmp_path, text):
    """core.suggest: a word comes back from the shell exactly as given, or is refused (never mangled)."""
    from agent_sync.core import suggest

    try:
        command = suggest.command("send", to="bob", message=text)
    except suggest.Unprintable:
        assert not text.isprintable() or len(text) > suggest.MAX_WORD or "agent-sync-state" in text
        return
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("verb")
    parser.add_argument("--to")
    parser.add_argument("--message")
    parser.add_argument("paths", nargs="*")
    sent = parser.parse_args(paste(tmp_path, command))  # as our own parser reads it
    assert (sent.verb, sent.to, sent.message) == ("send", "bob", text)
    unlock = parser.parse_args(paste(tmp_path, suggest.command("unlock", text), "unlock"))
    assert (unlock.verb, unlock.paths) == ("unlock", [text])
