"""Hooks for Codex CLI, Gemini CLI, Cursor, Windsurf and Copilot CLI, through the real `hook --agent` command.

Payloads come from tests/fixtures/<agent>/*.json: for Codex, Gemini and
Copilot, what the pinned CLIs really sent (recorded by tests/agents/payloads.py),
for the others shaped as each agent's documentation shows them; `payload()` moves their /home/dev/project paths
into the test's repository. Each agent must refuse a write to a file
another agent locked in its own deny format, allow a free file, fail open
on garbage, and never block the lock's owner.
"""

import json
import subprocess
from pathlib import Path

import pytest
from conftest import Result, clean_env

from agent_sync.hooks import patchpaths
from agent_sync.core.identity import session_agent_id

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_PROJECT = "/home/dev/project"
LOCKED = "src/app.py"


def _rebase(value, root):
    if isinstance(value, str):
        return value.replace(FIXTURE_PROJECT, root)
    if isinstance(value, list):
        return [_rebase(v, root) for v in value]
    if isinstance(value, dict):
        return {k: _rebase(v, root) for k, v in value.items()}
    return value


def payload(agent, name, repo, **top):
    data = json.loads((FIXTURES / agent / f"{name}.json").read_text(encoding="utf-8"))
    data = _rebase(data, str(repo.path))
    data.update(top)
    return data


def session_of(data):
    for key in ("session_id", "conversation_id", "trajectory_id", "sessionId"):
        if data.get(key):
            return data[key]
    return None


def hook(repo, agent, event, data, env=None, **kw):
    """The hook as the agent runs it: the command `install --agent` writes, answering in the agent's format."""
    raw = data if isinstance(data, (bytes, str)) else json.dumps(data)
    return repo.run("--agent", agent, event, input=raw, env=env, installed_hook=True, **kw)


# ---------------------------------------------------------------------------
# How each agent says no

def _json(text):
    return json.loads(text) if text.strip() else None


def denied_codex(result):
    assert result.code == 2, result
    assert "[agent-sync] BLOCKED" in result.err, result
    out = _json(result.out)["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse" and out["permissionDecision"] == "deny", result
    assert LOCKED in out["permissionDecisionReason"]


def denied_gemini(result):
    assert result.code == 2, result
    assert "[agent-sync] BLOCKED" in result.err, result
    out = _json(result.out)
    assert out["decision"] == "deny" and LOCKED in out["reason"], result


def denied_cursor(result):
    assert result.code == 2, result
    out = _json(result.out)
    assert out["permission"] == "deny", result
    assert "[agent-sync] BLOCKED" in out["agent_message"] and LOCKED in out["user_message"], result


def denied_windsurf(result):
    assert result.code == 2, result
    assert "[agent-sync] BLOCKED" in result.err and LOCKED in result.err, result
    assert result.out == "", result


def denied_copilot(result):
    assert result.code == 0, result  # Copilot ignores a failing hook's output: the refusal is JSON on exit 0
    out = _json(result.out)
    assert out["permissionDecision"] == "deny" and LOCKED in out["permissionDecisionReason"], result


DENIED = {"codex": denied_codex, "gemini": denied_gemini, "cursor": denied_cursor, "windsurf": denied_windsurf,
          "copilot": denied_copilot}


def allowed(agent, result):
    assert result.code == 0, result
    assert "Traceback" not in result.err and "BLOCKED" not in result.out, result
    if agent == "gemini":
        assert result.out.strip() in ("", "{}"), result  # Gemini wants JSON only on stdout
    else:
        assert "deny" not in result.out, result


# (agent, event, fixture): every pre-tool write the adapters know, all aimed at src/app.py
WRITES = [
    ("codex", "PreToolUse", "pre_tool_use_apply_patch"),
    ("codex", "PreToolUse", "pre_tool_use_apply_patch_multi"),
    ("codex", "PreToolUse", "pre_tool_use_bash"),
    ("codex", "PreToolUse", "pre_tool_use_bash_heredoc_patch"),  # `apply_patch <<'EOF'` typed into the shell
    ("codex", "PreToolUse", "pre_tool_use_bash_workdir"),  # the shell's workdir arrives as the payload's cwd
    ("gemini", "BeforeTool", "before_tool_write_file"),
    ("gemini", "BeforeTool", "before_tool_replace"),
    ("gemini", "BeforeTool", "before_tool_run_shell_command"),
    ("cursor", "preToolUse", "pre_tool_use_write"),
    ("cursor", "preToolUse", "pre_tool_use_str_replace"),
    ("cursor", "beforeShellExecution", "before_shell_execution"),
    ("windsurf", "pre_write_code", "pre_write_code"),
    ("windsurf", "pre_run_command", "pre_run_command"),
    ("copilot", "preToolUse", "pre_tool_use_edit"),
    ("copilot", "preToolUse", "pre_tool_use_create"),
    ("copilot", "preToolUse", "pre_tool_use_bash"),
]
WRITE_IDS = [f"{a}-{f}" for a, _, f in WRITES]


@pytest.fixture
def locked(repo):
    """src/app.py exists and another agent ("owner") holds its lock."""
    (repo.path / "src").mkdir()
    (repo.path / LOCKED).write_text("def login(user):\n    return None\n")
    repo.ok("register", "--name", "owner", agent="owner")
    repo.ok("lock", LOCKED, "--reason", "refactoring login", agent="owner")
    return repo


@pytest.mark.parametrize("agent,event,fixture", WRITES, ids=WRITE_IDS)
def test_write_to_locked_file_is_denied_in_the_agents_format(locked, agent, event, fixture):
    result = hook(locked, agent, event, payload(agent, fixture, locked))
    DENIED[agent](result)
    text = result.out + result.err
    assert "refactoring login" in text and "owner" in text


@pytest.mark.parametrize("agent,event,fixture", WRITES, ids=WRITE_IDS)
def test_write_to_free_file_is_allowed(locked, agent, event, fixture):
    locked.ok("unlock", LOCKED, agent="owner")
    locked.ok("lock", "src/other.py", agent="owner")
    allowed(agent, hook(locked, agent, event, payload(agent, fixture, locked)))


@pytest.mark.parametrize("agent,event,fixture", WRITES, ids=WRITE_IDS)
def test_the_lock_owner_is_never_blocked(locked, agent, event, fixture):
    allowed(agent, hook(locked, agent, event, payload(agent, fixture, locked), env={"AGENT_SYNC_ID": "owner"}))


SHELL_IDENTITY = ("windsurf",)  # no way to tell the agent its session id: hooks resolve as its shell does


def agent_id(repo, agent, data):
    """The id the agent's hooks act as."""
    if agent in SHELL_IDENTITY:
        return repo.json("whoami")["id"]
    return session_agent_id(session_of(data))


@pytest.mark.parametrize("agent,event,fixture", WRITES, ids=WRITE_IDS)
def test_the_agents_own_cli_lock_never_blocks_it(locked, agent, event, fixture):
    """A lock the agent takes the way it is told to (session id, or its plain shell) is its own."""
    data = payload(agent, fixture, locked)
    locked.ok("unlock", LOCKED, agent="owner")
    me = agent_id(locked, agent, data)
    locked.ok("lock", LOCKED, agent=None if agent in SHELL_IDENTITY else me)
    allowed(agent, hook(locked, agent, event, data))


@pytest.mark.parametrize("agent,event,fixture", [
    ("cursor", "preToolUse", "pre_tool_use_read"),
    ("copilot", "preToolUse", "pre_tool_use_view"),
], ids=["cursor-read", "copilot-view"])
def test_reading_a_locked_file_is_allowed(locked, agent, event, fixture):
    result = hook(locked, agent, event, payload(agent, fixture, locked))
    assert (result.code, result.out) == (0, ""), result


GARBAGE = [b"", b"not json", b"[1, 2, 3]", b'{"tool_name": 5, "tool_input": "x"}', b'{"truncated": ',
           b"\xff\xfe\x00garbage", b'{"toolArgs": "{not json", "toolName": "edit"}', b'{"tool_info": null}',
           (b'{"tool_name": ["Edit"], "toolName": {"a": 1}, "reason": [1], "tool_info": {"file_path": ["x"]},'
            b' "tool_input": {"file_path": {"x": 1}, "command": ["rm", 7]}, "loop_count": "many", "cwd": 3}')]


@pytest.mark.parametrize("agent,event", sorted({(a, e) for a, e, _ in WRITES}))
@pytest.mark.parametrize("raw", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_fails_open(locked, agent, event, raw):
    result = hook(locked, agent, event, raw)
    allowed(agent, result)
    assert "internal error" not in result.err, result  # garbage is read as "no write", not as a crash


@pytest.mark.parametrize("agent", ["codex", "gemini", "cursor", "windsurf", "copilot"])
def test_unknown_event_fails_open(locked, agent):
    result = hook(locked, agent, "NoSuchEvent", payload(*next((a, f) for a, _, f in WRITES if a == agent), locked))
    assert result.code == 0 and "unknown event" in result.err, result


def test_unknown_agent_fails_open(locked):
    result = hook(locked, "nosuchagent", "PreToolUse", payload("codex", "pre_tool_use_apply_patch", locked))
    assert result.code == 0 and "unknown agent" in result.err, result


def test_copilot_accepts_tool_args_as_a_string_too(locked):
    """The pinned Copilot sends an object (the fixtures); older releases sent the arguments as a JSON string."""
    data = payload("copilot", "pre_tool_use_edit", locked)
    assert isinstance(data["toolArgs"], dict)
    data["toolArgs"] = json.dumps(data["toolArgs"])
    denied_copilot(hook(locked, "copilot", "preToolUse", data))


# ---------------------------------------------------------------------------
# Session start, prompt push, stop block, activity log

def _context(agent, result):
    out = _json(result.out)
    if agent == "cursor":
        return out["additional_context"]
    return out["hookSpecificOutput"]["additionalContext"]


@pytest.mark.parametrize("agent,event,fixture", [
    ("codex", "SessionStart", "session_start"),
    ("gemini", "SessionStart", "session_start"),
    ("cursor", "sessionStart", "session_start"),
])
def test_session_start_injects_status_and_the_agents_id(locked, agent, event, fixture):
    data = payload(agent, fixture, locked)
    result = hook(locked, agent, event, data)
    assert result.code == 0, result
    context = _context(agent, result)
    me = session_agent_id(session_of(data))
    assert "[&agent-sync-state trust=untrusted]" in context and LOCKED in context
    assert f"agent_id={me}" in context
    if agent == "codex":  # Codex's shell exports CODEX_SESSION_ID: no AGENT_SYNC_ID needed
        assert "your shell commands already run as it" in context and "AGENT_SYNC_ID" not in context
    else:
        assert f"AGENT_SYNC_ID={me} python3 -I -S .claude/skills/agent-sync/agent-sync.pyz" in context
    ids = {a["id"] for a in locked.json("agents", agent="owner")["agents"]}
    assert me in ids


def test_copilot_session_start_injects_status_as_the_session(locked):
    """Copilot exports the session to its shell (COPILOT_AGENT_SESSION_ID): no identity hint is needed."""
    data = payload("copilot", "session_start", locked)
    result = hook(locked, "copilot", "sessionStart", data)
    assert result.code == 0, result
    context = _json(result.out)["additionalContext"]
    me = session_agent_id(data["sessionId"])
    assert "[&agent-sync-state trust=untrusted]" in context and LOCKED in context and "AGENT_SYNC_ID" not in context
    assert me in {a["id"] for a in locked.json("agents", agent="owner")["agents"]}
    assert locked.json("whoami", env={"COPILOT_AGENT_SESSION_ID": data["sessionId"]})["id"] == me


def test_copilot_subagent_acts_as_its_parent_and_is_told_no_messages(locked):
    parent = payload("copilot", "session_start", locked)["sessionId"]
    me = session_agent_id(parent)
    _start(locked, "copilot", "sessionStart")
    locked.ok("send", "--to", me, "--message", "for the parent", agent="owner")
    started = hook(locked, "copilot", "subagentStart", payload("copilot", "subagent_start", locked))
    assert LOCKED in _json(started.out)["additionalContext"], started
    sub = payload("copilot", "pre_tool_use_edit_subagent", locked)
    locked.ok("unlock", LOCKED, agent="owner")
    locked.ok("lock", LOCKED, agent=me)  # the parent's lock does not block its subagent
    allowed("copilot", hook(locked, "copilot", "preToolUse", sub))
    # the subagent's shell exports its own id; the subagentStart hook made it act as the parent
    assert locked.json("whoami", env={"COPILOT_AGENT_SESSION_ID": sub["sessionId"]})["id"] == me
    assert hook(locked, "copilot", "agentStop", payload("copilot", "agent_stop_subagent", locked)).out == ""
    stop = _json(hook(locked, "copilot", "agentStop", payload("copilot", "agent_stop", locked)).out)
    assert "for the parent" in stop["reason"], stop


def _start(repo, agent, event):
    data = payload(agent, "session_start", repo)
    assert hook(repo, agent, event, data).code == 0
    return agent_id(repo, agent, data)


@pytest.mark.parametrize("agent,start,event,fixture", [
    ("codex", "SessionStart", "UserPromptSubmit", "user_prompt_submit"),
    ("gemini", "SessionStart", "BeforeAgent", "before_agent"),
])
def test_prompt_push_delivers_messages(locked, agent, start, event, fixture):
    _start(locked, agent, start)
    locked.ok("send", "--to", "all", "--message", "schema frozen until 3pm", agent="owner")
    result = hook(locked, agent, event, payload(agent, fixture, locked))
    assert result.code == 0, result
    assert "schema frozen until 3pm" in _context(agent, result)
    again = hook(locked, agent, event, payload(agent, fixture, locked))
    assert "schema frozen" not in again.out, again  # delivered once


STOPS = [
    ("codex", "SessionStart", "Stop", "stop", lambda out: out["decision"] == "block" and out["reason"]),
    ("gemini", "SessionStart", "AfterAgent", "after_agent", lambda out: out["decision"] == "deny" and out["reason"]),
    ("cursor", "sessionStart", "stop", "stop", lambda out: out["followup_message"]),
    ("copilot", "sessionStart", "agentStop", "agent_stop", lambda out: out["decision"] == "block" and out["reason"]),
]


@pytest.mark.parametrize("agent,start,event,fixture,blocks", STOPS, ids=[s[0] for s in STOPS])
def test_stop_is_blocked_while_a_directed_message_waits(locked, agent, start, event, fixture, blocks):
    me = _start(locked, agent, start)
    locked.ok("send", "--to", me, "--message", "please release src/app.py", agent="owner")
    result = hook(locked, agent, event, payload(agent, fixture, locked))
    assert result.code == 0, result
    out = _json(result.out)
    assert blocks(out), result
    assert "please release src/app.py" in result.out
    again = hook(locked, agent, event, payload(agent, fixture, locked))
    assert again.code == 0 and "please release" not in again.out, again


@pytest.mark.parametrize("agent,fixture,active", [
    ("codex", "stop", {"stop_hook_active": True}),
    ("gemini", "after_agent", {"stop_hook_active": True}),
    ("cursor", "stop", {"loop_count": 1}),
])
def test_a_stop_that_already_continued_is_not_blocked_again(locked, agent, fixture, active):
    event = {"codex": ("SessionStart", "Stop"), "gemini": ("SessionStart", "AfterAgent"),
             "cursor": ("sessionStart", "stop")}[agent]
    me = _start(locked, agent, event[0])
    locked.ok("send", "--to", me, "--message", "ping", agent="owner")
    result = hook(locked, agent, event[1], payload(agent, fixture, locked, **active))
    assert result.code == 0 and "ping" not in result.out, result


@pytest.mark.parametrize("agent,event,fixture", [
    ("codex", "PostToolUse", "post_tool_use_apply_patch"),
    ("codex", "PostToolUse", "post_tool_use_bash"),
    ("gemini", "AfterTool", "after_tool_write_file"),
    ("gemini", "AfterTool", "after_tool_replace"),
    ("gemini", "AfterTool", "after_tool_run_shell_command"),  # run in dir_path src/
    ("cursor", "afterFileEdit", "after_file_edit"),
    ("windsurf", "post_write_code", "post_write_code"),
    ("copilot", "postToolUse", "post_tool_use_edit"),
])
def test_post_tool_logs_the_edit(locked, agent, event, fixture):
    locked.ok("init", agent="owner")
    result = hook(locked, agent, event, payload(agent, fixture, locked))
    assert result.code == 0, result
    activity = locked.json("status", agent="owner")["activity"]
    assert any(a["type"] == "edit" and a["path"] == LOCKED for a in activity), activity


# ---------------------------------------------------------------------------
# install --agent: the files, idempotent, merged, and working

CONFIGS = {
    "codex": ".codex/hooks.json",
    "gemini": ".gemini/settings.json",
    "cursor": ".cursor/hooks.json",
    "windsurf": ".windsurf/hooks.json",
    "copilot": ".github/hooks/agent-sync.json",
}
FOREIGN = {  # a user's own hook, in each file's shape, that install must keep
    "codex": {"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./lint.sh"}]}]}},
    "gemini": {"ui": {"theme": "GitHub"}, "hooks": {"BeforeTool": [
        {"matcher": "write_file", "hooks": [{"type": "command", "command": "./lint.sh"}]}]}},
    "cursor": {"version": 1, "hooks": {"preToolUse": [{"command": "./lint.sh"}]}},
    "windsurf": {"hooks": {"pre_write_code": [{"command": "./lint.sh", "show_output": True}]}},
    "copilot": {"version": 1, "hooks": {"preToolUse": [{"type": "command", "bash": "./lint.sh"}]}},
}


def _commands(doc):
    found = []

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("command", "bash") and isinstance(item, str):
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(doc)
    return found


@pytest.mark.parametrize("agent", sorted(CONFIGS))
def test_install_agent_is_idempotent_and_keeps_foreign_entries(repo, agent):
    path = repo.path / CONFIGS[agent]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(FOREIGN[agent], indent=2) + "\n")
    first = repo.ok("install", "--agent", agent)
    assert f"updated {CONFIGS[agent]}" in first.out and f"{agent} lock gate works" in first.out, first
    text = path.read_text()
    doc = json.loads(text)
    commands = _commands(doc)
    assert "./lint.sh" in commands
    ours = [c for c in commands if f"--agent {agent} " in c]
    assert len(ours) == len(set(ours)) >= 3, ours
    second = repo.ok("install", "--agent", agent)
    assert "unchanged" in second.out and path.read_text() == text, second
    assert not (repo.path / ".claude" / "settings.json").exists()  # Claude Code was not asked for


@pytest.mark.parametrize("agent", sorted(CONFIGS))
def test_install_replaces_entries_written_from_another_path(repo, agent):
    repo.ok("install", "--agent", agent)
    path = repo.path / CONFIGS[agent]
    text = path.read_text().replace(".claude/skills/agent-sync/agent-sync.pyz", "old/place/agent-sync.pyz")
    path.write_text(text)
    repo.ok("install", "--agent", agent)
    commands = _commands(json.loads(path.read_text()))
    assert not any("old/place" in c for c in commands)
    assert len(commands) == len(set(commands))


@pytest.mark.parametrize("agent", sorted(CONFIGS))
def test_install_refuses_invalid_json_and_changes_nothing(repo, agent):
    path = repo.path / CONFIGS[agent]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{ not json\n")
    result = repo.run("install", "--agent", agent)
    assert result.code == 2 and "invalid JSON" in result.err, result
    assert path.read_text() == "{ not json\n"
    assert not (repo.path / ".claude" / "skills").exists()


@pytest.mark.parametrize("agent,event,fixture", [w for w in WRITES if w[2] in (
    "pre_tool_use_apply_patch", "before_tool_write_file", "pre_tool_use_write", "pre_write_code", "pre_tool_use_edit")],
    ids=sorted(CONFIGS))
def test_installed_command_enforces_from_a_subdirectory(locked, agent, event, fixture):
    """Run the command install wrote, through sh, the way the agent would."""
    locked.ok("install", "--agent", agent)
    doc = json.loads((locked.path / CONFIGS[agent]).read_text())
    (command,) = [c for c in _commands(doc) if c.endswith(f" {event}")]
    env = clean_env(locked.home, GEMINI_PROJECT_DIR=locked.path)
    proc = subprocess.run(["sh", "-c", command], input=json.dumps(payload(agent, fixture, locked)).encode(),
                          cwd=str(locked.path / "src"), env=env, capture_output=True, timeout=60, check=False)
    DENIED[agent](Result(proc))


def test_install_all_and_uninstall(repo):
    out = repo.ok("install", "--agent", "all", "--mcp").out
    for agent, rel in CONFIGS.items():
        assert (repo.path / rel).exists(), out
        assert f"{agent} lock gate works" in out
    assert (repo.path / ".claude" / "settings.json").exists()
    mcp = json.loads((repo.path / ".mcp.json").read_text())
    assert mcp["mcpServers"]["agent-sync"]["args"][-1] == "mcp"
    foreign = repo.path / ".cursor" / "hooks.json"
    doc = json.loads(foreign.read_text())
    doc["hooks"]["preToolUse"].append({"command": "./lint.sh"})
    foreign.write_text(json.dumps(doc))
    repo.ok("uninstall")
    for agent, rel in CONFIGS.items():
        if agent != "cursor":
            assert not (repo.path / rel).exists(), rel
    assert _commands(json.loads(foreign.read_text())) == ["./lint.sh"]
    assert not (repo.path / ".mcp.json").exists()


def test_install_rejects_unknown_agent(repo):
    result = repo.run("install", "--agent", "notepad")
    assert result.code == 2 and "unknown agent 'notepad'" in result.err, result
    assert not (repo.path / ".claude").exists()


def test_mcp_json_merge_keeps_other_servers(repo):
    (repo.path / ".mcp.json").write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}}))
    repo.ok("install", "--mcp")
    servers = json.loads((repo.path / ".mcp.json").read_text())["mcpServers"]
    assert set(servers) == {"other", "agent-sync"}
    before = (repo.path / ".mcp.json").read_text()
    assert "unchanged" in repo.ok("install", "--mcp").out
    assert (repo.path / ".mcp.json").read_text() == before


def test_patch_parser_reads_every_header():
    text = (FIXTURES / "codex" / "pre_tool_use_apply_patch_multi.json").read_text()
    patch = json.loads(text)["tool_input"]["command"]
    assert patchpaths.targets(patch) == ["docs/notes.md", "src/old_name.py", "src/app.py", "src/unused.py"]
    body_only = "*** Begin Patch\n*** Update File: a.py\n@@\n+*** Add File: not-a-header.py\n *** Delete File: x\n"
    assert patchpaths.targets(body_only) == ["a.py"]
    assert patchpaths.targets(None) == []


PATCH = "*** Begin Patch\n*** Update File: app.py\n@@\n-if a > b:\n+if a >= b:\n*** End Patch\n"


@pytest.mark.parametrize("command,expected", [
    (f"apply_patch <<'EOF'\n{PATCH}EOF\n", ["app.py"]),
    (f"applypatch <<EOF\n{PATCH}EOF", ["app.py"]),
    (f"cd src && apply_patch <<'EOF'\n{PATCH}EOF\n", ["src/app.py"]),
    (f"cat > notes.md <<'EOF'\n{PATCH}EOF\n", []),    # a patch written down, not applied
    (f"echo apply_patch; cat <<'EOF'\n{PATCH}EOF", []),  # apply_patch is not what reads the heredoc
    ("apply_patch", []),
    (None, []),
])
def test_patches_typed_into_the_shell(command, expected):
    assert patchpaths.in_shell(command) == expected


def test_codex_shell_and_hooks_are_one_agent(locked):
    """Codex exports the hook payloads' session id to its shell as CODEX_SESSION_ID."""
    data = payload("codex", "pre_tool_use_apply_patch", locked)
    me = session_agent_id(data["session_id"])
    shell = {"CODEX_SESSION_ID": data["session_id"]}
    who = locked.json("whoami", env=shell)
    assert (who["id"], who["source"]) == (me, "session"), who
    locked.ok("unlock", LOCKED, agent="owner")
    locked.ok("lock", LOCKED, env=shell)
    allowed("codex", hook(locked, "codex", "PreToolUse", data))
    denied_codex(hook(locked, "codex", "PreToolUse", payload("codex", "pre_tool_use_apply_patch", locked,
                                                             session_id="another-session")))


def test_codex_subagent_start_gives_the_subagent_the_state(locked):
    """The fixture follows the subagent-start.command.input schema codex-cli 0.171.0 embeds."""
    result = hook(locked, "codex", "SubagentStart", payload("codex", "subagent_start", locked))
    assert result.code == 0, result
    out = _json(result.out)["hookSpecificOutput"]
    assert out["hookEventName"] == "SubagentStart", out
    assert LOCKED in out["additionalContext"] and "[&agent-sync-state trust=untrusted]" in out["additionalContext"]


@pytest.mark.parametrize("agent,fixture,state", [("codex", "session_end", "idle"), ("gemini", "session_end", "offline")])
def test_session_end_marks_the_agent(locked, agent, fixture, state):
    data = payload(agent, fixture, locked)
    start = payload(agent, "session_start", locked)
    assert hook(locked, agent, "SessionStart", start).code == 0
    assert hook(locked, agent, "SessionEnd", data).code == 0
    me = session_agent_id(data["session_id"])
    status = {a["id"]: a["status"] for a in locked.json("agents", agent="owner")["agents"]}
    assert status[me] == state, status
