"""Record the hook payloads the pinned Claude Code and Copilot CLIs really send.

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
SESSIONS = {"claude": "3f6b2c1e-8a4d-4e0b-9c57-2d1f0a9b7e64", "copilot": "5f8d2a19-c3e7-4b60-91d4-e2a7b0c6f835"}
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


SESSIONS_BY_AGENT = {"claude": claude_session, "copilot": copilot_session}


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
