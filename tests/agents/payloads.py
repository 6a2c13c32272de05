"""Record the hook payloads the pinned Claude Code, Copilot, Codex and Gemini CLIs really send.

`python3 tests/agents/payloads.py` drives each CLI once through a scripted
session that touches every tool and event the adapters read, and rewrites
tests/fixtures/<agent>/<name>.json from what its hooks received. The run's
paths, session ids and clock are replaced by the fixtures' stable ones
(/home/dev/project, fixed ids), so a re-recording changes a fixture only
when the CLI changed. test_payloads.py runs the same sessions in the tier
and fails when a committed fixture no longer has the real payload's shape.
"""

import json
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from fake_anthropic import FakeAnthropic, first_user_text  # noqa: E402
from fake_openai_chat import FakeOpenAIChat  # noqa: E402
from fake_openai_chat import first_user_text as copilot_first_user_text  # noqa: E402
from harness import Blackhole, Call, Reply, Sandbox, build_pyz, cli_binary  # noqa: E402

FIXTURES = HERE.parent / "fixtures"
PROJECT, HOME = "/home/dev/project", "/home/dev"
SESSIONS = {"claude": "3f6b2c1e-8a4d-4e0b-9c57-2d1f0a9b7e64", "copilot": "5f8d2a19-c3e7-4b60-91d4-e2a7b0c6f835",
            "codex": "019a3c2e-7f41-7b20-9d0e-5c8a1b2f3e47", "gemini": "7c1d9e24-0b6f-4a3e-8f52-d4e6a9b1c070"}
SUBAGENT_IDS = {"claude": "a7f3c2e19b8d4e06", "copilot": "8c1e4b27-9d3a-4f65-b0e2-7a5c9d1f3e48"}
CLOCK = 1795342500000
APP = "def login(user):\n    return None\n"
NOTEBOOK = {"cells": [{"cell_type": "code", "id": "a1b2c3d4", "metadata": {}, "source": "df.head()", "outputs": [],
                       "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _files(box):
    box.write("src/app.py", APP)
    box.write("notebooks/analysis.ipynb", json.dumps(NOTEBOOK))
    box.write("build/.keep", "")
    box.commit()


def _normalise(value, box, agent, run_session, subagents, more=None):
    """The payload with this run's paths, ids and times replaced by the fixtures' stable ones."""
    text = json.dumps(value)
    for real, stable in (more or {}).items():
        text = text.replace(real, stable)
    for real, stable in ((str(box.repo), PROJECT), (str(box.home), HOME), (str(box.tmp), "/tmp/agent")):
        text = text.replace(real, stable)
        text = text.replace(re.sub(r"[^A-Za-z0-9]", "-", real), stable.replace("/", "-"))  # Claude's folder names
    text = text.replace(run_session, SESSIONS[agent])
    for sub in subagents:
        text = text.replace(sub, SUBAGENT_IDS[agent])
    for number, prompt in enumerate(dict.fromkeys(re.findall(r'"prompt_id": "([0-9a-f-]{36})"', text))):
        text = text.replace(prompt, f"00000000-0000-4000-8000-{number + 1:012d}")
    data = json.loads(text)
    for key, stable in (("timestamp", CLOCK), ("duration_ms", 100)):
        if key in data:
            data[key] = stable
    return data


def _pick(recorded, event, test=lambda payload: True):
    return next((p for label, p in recorded if label == event and test(p)), None)


# ---------------------------------------------------------------------------
# Claude Code

def claude_session(box):
    """Run the scripted Claude Code session; returns {fixture name: normalised payload}."""
    from test_claude import Claude  # the tier's driver

    binary = cli_binary("claude")
    claude = Claude(box, binary)
    _files(box)
    box.install()
    claude.record_payloads()
    app, nb = claude.path("src/app.py"), claude.path("notebooks/analysis.ipynb")
    server = FakeAnthropic(final_text="Done.").start()
    url = server.url
    # WebFetch asks api.anthropic.com about the domain first: skip that, and fetch from loopback
    settings = box.home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"skipWebFetchPreflight": True}))

    def parent(request):
        return "SUBAGENT" not in first_user_text(request)

    def child(request):
        return "SUBAGENT" in first_user_text(request)

    script = [
        Reply(Call("Read", {"file_path": app}), match=parent),
        Reply(Call("Edit", {"file_path": app, "old_string": "def login(user):", "new_string": "def login(user, store):"}),
              match=parent),
        Reply(Call("Write", {"file_path": app, "content": APP}), match=parent),
        Reply(Call("Bash", {"command": "npm test", "description": "Run the unit tests", "timeout": 120000}),
              match=parent),
        Reply(Call("Bash", {"command": "echo done > build/stamp.txt", "description": "Write the build stamp"}),
              match=parent),
        Reply(Call("ToolSearch", {"query": "select:NotebookEdit,WebFetch"}), match=parent),
        Reply(Call("Read", {"file_path": nb}), match=parent),
        Reply(Call("NotebookEdit", {"notebook_path": nb, "cell_id": "a1b2c3d4", "new_source": "df.describe()",
                                    "cell_type": "code", "edit_mode": "replace"}), match=parent, input_tokens=995_000),
        Reply(Call("WebFetch", {"url": url + "/page", "prompt": "Summarise the page"}), match=parent),
        Reply(Call("Agent", {"description": "edit login", "prompt": "SUBAGENT: edit src/app.py",
                             "subagent_type": "general-purpose"}), match=parent),
        Reply(Call("Read", {"file_path": app}), match=child),
        Reply(Call("Edit", {"file_path": app, "old_string": "return None", "new_string": "return user"}), match=child),
        Reply(text="The subagent is done.", match=child),
        Reply(text="Waiting for the subagent.", match=parent),
    ]
    server.add(*script)
    claude.run(server, "work on login", timeout=150)
    got = [(label, p) for label, p in _recorded(claude)]
    subagents = {p["agent_id"] for _, p in got if p.get("agent_id")}
    pre = [p for label, p in got if label == "PreToolUse"]
    post = [p for label, p in got if label == "PostToolUse"]

    def tool(payloads, name, test=lambda p: True):
        return next((p for p in payloads if p["tool_name"] == name and test(p)), None)

    chosen = {
        "session_start": _pick(got, "SessionStart", lambda p: p["source"] == "startup"),
        "session_start_compact": _pick(got, "SessionStart", lambda p: p["source"] == "compact"),
        "user_prompt_submit": _pick(got, "UserPromptSubmit"),
        "pre_tool_use_read": tool(pre, "Read"),
        "pre_tool_use_edit": tool(pre, "Edit", lambda p: "agent_id" not in p),
        "pre_tool_use_edit_subagent": tool(pre, "Edit", lambda p: "agent_id" in p),
        "pre_tool_use_write": tool(pre, "Write"),
        "pre_tool_use_bash": tool(pre, "Bash"),
        "pre_tool_use_notebook_edit": tool(pre, "NotebookEdit"),
        "pre_tool_use_webfetch": tool(pre, "WebFetch"),
        "pre_tool_use_agent": tool(pre, "Agent"),
        "post_tool_use_edit": tool(post, "Edit", lambda p: "agent_id" not in p),
        "post_tool_use_bash": tool(post, "Bash", lambda p: "stamp" in p["tool_input"]["command"]),
        "pre_compact": _pick(got, "PreCompact"),
        "post_compact": _pick(got, "PostCompact"),
        "subagent_start": _pick(got, "SubagentStart"),
        "subagent_stop": _pick(got, "SubagentStop", lambda p: p.get("agent_type") == "general-purpose"),
        "stop_background_tasks": _pick(got, "Stop", lambda p: bool(p.get("background_tasks"))),
        "stop": _pick(got, "Stop", lambda p: not p.get("background_tasks")),
        "session_end": _pick(got, "SessionEnd"),
    }
    missing = sorted(name for name, p in chosen.items() if p is None)
    assert not missing, f"Claude Code sent no payload for {missing}; it sent {[label for label, _ in got]}"
    return {name: _normalise(p, box, "claude", claude.session, subagents, {url: "http://127.0.0.1:8080"})
            for name, p in chosen.items()}


def _recorded(driver):
    from harness import recorded

    return recorded(driver.payloads)


# ---------------------------------------------------------------------------
# Copilot CLI

def copilot_session(box):
    from test_copilot import Copilot

    binary = cli_binary("copilot")
    copilot = Copilot(box, binary)
    _files(box)
    copilot.trust()
    box.install("copilot")
    copilot.record_payloads()
    app = copilot.path("src/app.py")

    def parent(request):
        return "SUBAGENT" not in copilot_first_user_text(request)

    def child(request):
        return "SUBAGENT" in copilot_first_user_text(request)

    script = [
        Reply(Call("view", {"path": app}), match=parent),
        Reply(Call("edit", {"path": app, "old_str": "return None", "new_str": "return user"}), match=parent),
        Reply(Call("create", {"path": app, "file_text": "def login(user):\n    return user\n"}), match=parent),
        Reply(Call("task", {"name": "editor", "description": "edit login", "prompt": "SUBAGENT: edit src/app.py",
                            "agent_type": "general-purpose"}), match=parent),
        Reply(Call("edit", {"path": app, "old_str": "return user", "new_str": "return None"}), match=child),
        Reply(text="The subagent is done.", match=child),
        Reply(Call("bash", {"command": "rm src/app.py", "description": "remove the old module"}), match=parent),
        Reply(text="Done.", match=parent),
    ]
    copilot.run(FakeOpenAIChat(*script, final_text="Done."), "work on login", timeout=150)
    got = _recorded(copilot)
    subagents = {p["agentId"] for _, p in got if p.get("agentId")}
    pre = [p for label, p in got if label == "preToolUse"]
    post = [p for label, p in got if label == "postToolUse"]

    def tool(payloads, name, test=lambda p: True):
        return next((p for p in payloads if p["toolName"] == name and test(p)), None)

    chosen = {
        "session_start": _pick(got, "sessionStart"),
        "user_prompt_submitted": _pick(got, "userPromptSubmitted", lambda p: "parentAgentId" not in p),
        "pre_tool_use_view": tool(pre, "view"),
        "pre_tool_use_edit": tool(pre, "edit", lambda p: "parentAgentId" not in p),
        "pre_tool_use_edit_subagent": tool(pre, "edit", lambda p: "parentAgentId" in p),
        "pre_tool_use_create": tool(pre, "create"),
        "pre_tool_use_bash": tool(pre, "bash"),
        "post_tool_use_edit": tool(post, "edit", lambda p: "parentAgentId" not in p),
        "subagent_start": _pick(got, "subagentStart"),
        "subagent_stop": _pick(got, "subagentStop"),
        "agent_stop_subagent": _pick(got, "agentStop", lambda p: "parentAgentId" in p),
        "agent_stop": _pick(got, "agentStop", lambda p: "parentAgentId" not in p),
        "session_end": _pick(got, "sessionEnd"),
    }
    missing = sorted(name for name, p in chosen.items() if p is None)
    assert not missing, f"Copilot sent no payload for {missing}; it sent {[label for label, _ in got]}"
    return {name: _normalise(p, box, "copilot", copilot.session, subagents) for name, p in chosen.items()}


# ---------------------------------------------------------------------------
# Codex CLI and Gemini CLI

UPDATE = "*** Begin Patch\n*** Update File: src/app.py\n@@ def login(user):\n-    return None\n+    return user\n*** End Patch\n"
REVERT = "*** Begin Patch\n*** Update File: src/app.py\n@@\n-    return user\n+    return None\n*** End Patch\n"
MULTI = ("*** Begin Patch\n*** Add File: docs/notes.md\n+notes\n*** Update File: src/old_name.py\n*** Move to: src/app.py\n"
         "@@\n-x = 1\n+x = 2\n*** Delete File: src/unused.py\n*** End Patch\n")
CODEX_GEMINI_FILES = {"src/app.py": APP, "src/old_name.py": "x = 1\n", "src/unused.py": "u = 1\n", "docs/.keep": ""}


def _stable_run(data, box, agent, run_session):
    """What _normalise leaves of a Codex or Gemini run: transcript names, turn ids, agent ids, ISO timestamps."""
    from agent_sync.core.identity import session_agent_id

    data = _normalise(data, box, agent, run_session, ())
    text = json.dumps(data).replace(session_agent_id(run_session), session_agent_id(SESSIONS[agent]))
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}(-\d{2})?", "2026-11-25T10-15-00", text)  # transcript file names
    text = re.sub(r"/sessions/\d{4}/\d{2}/\d{2}/", "/sessions/2026/11/25/", text)
    text = re.sub(r"(session-2026-11-25T10-15-00)-[0-9a-f]{8}", r"\1-7c1d9e24", text)
    data = json.loads(text)
    if "turn_id" in data:
        data["turn_id"] = "019a3c2e-8000-7000-8000-000000000001"
    if agent == "gemini" and "timestamp" in data:
        data["timestamp"] = "2026-11-25T10:15:00.000Z"  # Gemini sends an ISO string
    return data


def codex_session(box):
    """Run the scripted Codex session (apply_patch, a heredoc patch, shell writes in and out of a workdir)."""
    from drivers import Codex

    codex = Codex(box).setup(CODEX_GEMINI_FILES)
    codex.record_payloads()
    calls = [Call("apply_patch", UPDATE), Call("apply_patch", MULTI),
             Call("exec_command", {"cmd": "sed -i 's/None/user/' src/app.py"}),
             Call("exec_command", {"cmd": "apply_patch <<'EOF'\n" + REVERT + "EOF\n"}),
             Call("exec_command", {"cmd": "printf 'x' >> app.py", "workdir": codex.path("src")})]
    codex.run(codex.server(*[Reply(c) for c in calls], Reply(text="Done.")), "continue with the login work")
    got = _recorded(codex)
    pre = [p for label, p in got if label == "PreToolUse"]
    post = [p for label, p in got if label == "PostToolUse"]

    def tool(payloads, test):
        return next((p for p in payloads if test(json.dumps(p.get("tool_input")), p)), None)

    chosen = {
        "session_start": _pick(got, "SessionStart"),
        "user_prompt_submit": _pick(got, "UserPromptSubmit"),
        "pre_tool_use_apply_patch": tool(pre, lambda t, p: p["tool_name"] == "apply_patch" and "Add File" not in t),
        "post_tool_use_apply_patch": tool(post, lambda t, p: p["tool_name"] == "apply_patch" and "Add File" not in t),
        "pre_tool_use_apply_patch_multi": tool(pre, lambda t, p: p["tool_name"] == "apply_patch" and "Add File" in t),
        "post_tool_use_apply_patch_multi": tool(post, lambda t, p: p["tool_name"] == "apply_patch" and "Add File" in t),
        "pre_tool_use_bash": tool(pre, lambda t, p: "sed -i" in t),
        "post_tool_use_bash": tool(post, lambda t, p: "sed -i" in t),
        "pre_tool_use_bash_heredoc_patch": tool(pre, lambda t, p: "apply_patch <<" in t),
        "pre_tool_use_bash_workdir": tool(pre, lambda t, p: "printf" in t),
        "stop": _pick(got, "Stop"),
        "session_end": _pick(got, "SessionEnd"),
    }
    missing = sorted(name for name, p in chosen.items() if p is None)
    assert not missing, f"Codex sent no payload for {missing}; it sent {[label for label, _ in got]}"
    session = chosen["session_start"]["session_id"]
    return {name: _stable_run(p, box, "codex", session) for name, p in chosen.items()}


def gemini_session(box):
    """Run the scripted Gemini session (replace, write_file, a shell write in its dir_path)."""
    from drivers import Gemini

    gemini = Gemini(box).setup(CODEX_GEMINI_FILES)
    gemini.record_payloads()
    app = gemini.path("src/app.py")
    calls = [Call("replace", {"file_path": app, "old_string": "return None", "new_string": "return user",
                              "instruction": "return the user"}),
             Call("write_file", {"file_path": app, "content": "def login(user):\n    return user\n"}),
             Call("run_shell_command", {"command": "printf 'x' >> app.py", "description": "append", "dir_path": "src"})]
    gemini.run(gemini.server(*[Reply(c) for c in calls], Reply(text="Done.")), "continue with the login work")
    got = _recorded(gemini)
    chosen = {}
    for label, payload in got:
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", label).lower()
        name = f"{snake}_{payload['tool_name']}" if payload.get("tool_name") else snake
        chosen.setdefault(name, payload)
    expected = {"session_start", "before_agent", "before_tool_replace", "after_tool_replace", "before_tool_write_file",
                "after_tool_write_file", "before_tool_run_shell_command", "after_tool_run_shell_command", "after_agent",
                "session_end", "pre_compress"}
    missing = sorted(expected - set(chosen))
    assert not missing, f"Gemini sent no payload for {missing}; it sent {[label for label, _ in got]}"
    session = chosen["session_start"]["session_id"]
    return {name: _stable_run(chosen[name], box, "gemini", session) for name in sorted(expected)}


SESSIONS_BY_AGENT = {"claude": claude_session, "copilot": copilot_session, "codex": codex_session,
                     "gemini": gemini_session}


def shape(value):
    """The structure of a payload: its keys (recursively) and the JSON types of its values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def write(agent, payloads):
    folder = FIXTURES / agent
    for name, data in sorted(payloads.items()):
        (folder / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {folder.name}/{name}.json")


def main(argv):
    agents = argv or list(SESSIONS_BY_AGENT)
    base = Path(tempfile.mkdtemp(prefix="agent-payloads-"))
    pyz = build_pyz(base)
    with Blackhole() as hole:
        for agent in agents:
            box = Sandbox(base / agent, pyz, hole)
            try:
                write(agent, SESSIONS_BY_AGENT[agent](box))
            finally:
                box.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
