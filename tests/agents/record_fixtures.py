"""Record the hook payloads the pinned Codex and Gemini CLIs really send, into tests/fixtures/<agent>/.

    .venv/bin/python tests/agents/record_fixtures.py [codex] [gemini]

Each CLI runs one scripted session in a throwaway repository with agent-sync
installed and a recorder hook in front of every event. The payloads are then
made stable: the repository becomes /home/dev/project, HOME becomes /home/dev,
and session and turn ids become fixed ids of the same shape. Run it again after
changing a pin in clis.py, and review the diff.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT / "tests"), str(ROOT)]

import build  # noqa: E402
import conftest  # noqa: E402
from drivers import Call, Codex, Gemini, Reply, install  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
PROJECT, HOME = "/home/dev/project", "/home/dev"
RECORDER = ("import json,os,sys\n"
            "path=os.path.join(sys.argv[1],'%05d.json'%len(os.listdir(sys.argv[1])))\n"
            "open(path,'w').write(sys.stdin.read())\n")
FIXED_IDS = {"codex": "019a3c2e-7f41-7b20-9d0e-5c8a1b2f3e47", "gemini": "7c1d9e24-0b6f-4a3e-8f52-d4e6a9b1c070"}
UPDATE = "*** Begin Patch\n*** Update File: src/app.py\n@@ def login(user):\n-    return None\n+    return user\n*** End Patch\n"
REVERT = "*** Begin Patch\n*** Update File: src/app.py\n@@\n-    return user\n+    return None\n*** End Patch\n"
MULTI = ("*** Begin Patch\n*** Add File: docs/notes.md\n+notes\n*** Update File: src/old_name.py\n*** Move to: src/app.py\n"
         "@@\n-x = 1\n+x = 2\n*** Delete File: src/unused.py\n*** End Patch\n")


def scratch_repo(tmp):
    path, home = tmp / "project", tmp / "home"
    path.mkdir()
    home.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "src").mkdir()
    (path / "docs").mkdir()
    (path / "src" / "app.py").write_text("def login(user):\n    return None\n")
    (path / "src" / "old_name.py").write_text("x = 1\n")
    (path / "src" / "unused.py").write_text("u = 1\n")
    return conftest.Repo(path, home)


def add_recorder(config_path, events, outdir):
    """Put a recorder hook first in every event of a nested (Claude-shaped) hooks file."""
    doc = json.loads(config_path.read_text())
    script = outdir.parent / "recorder.py"
    script.write_text(RECORDER)
    for event in events:
        entry = {"hooks": [{"type": "command", "command": f"python3 {script} {outdir}"}]}
        if config_path.name == "settings.json":
            entry["hooks"][0].update(name="recorder", timeout=10000)
        else:
            entry["hooks"][0]["timeout"] = 10
        doc["hooks"].setdefault(event, []).insert(0, entry)
    config_path.write_text(json.dumps(doc, indent=2))


def recorded(outdir):
    return [json.loads(p.read_text()) for p in sorted(outdir.glob("*.json"))]


def stable(value, repo, agent):
    """The payload with machine-specific paths and ids replaced (see the module docstring)."""
    text = json.dumps(value)
    real = os.path.realpath(repo.path)
    for src, dst in ((real, PROJECT), (str(repo.path), PROJECT), (os.path.realpath(repo.home), HOME),
                     (str(repo.home), HOME)):
        text = text.replace(src, dst)
    text = re.sub(r"/tmp/[^\"]*?/project", PROJECT, text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}(-\d{2})?", "2026-11-25T10-15-00", text)  # transcript file names
    text = re.sub(r"/sessions/\d{4}/\d{2}/\d{2}/", "/sessions/2026/11/25/", text)
    text = re.sub(r"(session-2026-11-25T10-15-00)-[0-9a-f]{8}", r"\1-7c1d9e24", text)
    data = json.loads(text)
    ids = {}

    def fix(v):
        if isinstance(v, dict):
            return {k: fix_field(k, x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    def fix_field(key, v):
        if key == "session_id" and isinstance(v, str):
            ids[v] = FIXED_IDS[agent]
            return FIXED_IDS[agent]
        if key == "turn_id" and isinstance(v, str):
            return ids.setdefault(v, f"019a3c2e-8000-7000-8000-{len(ids):012d}")
        if key == "timestamp" and isinstance(v, str):
            return "2026-11-25T10:15:00.000Z"
        if key == "tool_use_id" and isinstance(v, str):
            return v
        return fix(v)

    data = fix(data)
    text = json.dumps(data)
    for sid in ids:
        text = text.replace(sid, FIXED_IDS[agent]).replace(session_agent_id(sid), session_agent_id(FIXED_IDS[agent]))
    return json.loads(text)


def session_agent_id(session_id):
    try:
        from agent_sync.core.identity import session_agent_id as hashed
    except ImportError:  # before the core/ layout
        from agent_sync.identity import session_agent_id as hashed
    return hashed(session_id)


def write(agent, name, data):
    path = FIXTURES / agent / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


def record_codex(tmp):
    repo = scratch_repo(tmp)
    install(repo, "codex")
    outdir = tmp / "payloads"
    outdir.mkdir()
    add_recorder(repo.path / ".codex" / "hooks.json", ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse",
                                                       "Stop", "SessionEnd"), outdir)
    codex = Codex(repo)
    codex.trust()
    calls = [
        Call("apply_patch", freeform=UPDATE),
        Call("apply_patch", freeform=MULTI),
        Call("exec_command", {"cmd": "sed -i 's/None/user/' src/app.py"}),
        Call("exec_command", {"cmd": "apply_patch <<'EOF'\n" + REVERT + "EOF\n"}),
        Call("exec_command", {"cmd": "printf 'x' >> app.py", "workdir": str(repo.path / "src")}),
    ]
    run = codex.run(*[Reply(c) for c in calls], Reply(text="Done."), prompt="continue with the login work")
    assert run.code == 0, run
    names = {}
    for data in recorded(outdir):
        event, tool = data["hook_event_name"], data.get("tool_name")
        command = json.dumps(data.get("tool_input", {}))
        if event == "SessionStart":
            name = "session_start"
        elif event == "UserPromptSubmit":
            name = "user_prompt_submit"
        elif event == "Stop":
            name = "stop"
        elif event == "SessionEnd":
            name = "session_end"
        elif tool == "apply_patch":
            name = ("pre" if event == "PreToolUse" else "post") + "_tool_use_apply_patch" + \
                ("_multi" if "Add File" in command else "")
        elif "apply_patch <<" in command:
            name = "pre_tool_use_bash_heredoc_patch" if event == "PreToolUse" else None
        elif "sed -i" in command:
            name = "pre_tool_use_bash" if event == "PreToolUse" else "post_tool_use_bash"
        elif "app.py" in command:
            name = "pre_tool_use_bash_workdir" if event == "PreToolUse" else None
        else:
            name = None
        if name and name not in names:
            names[name] = stable(data, repo, "codex")
    for name, data in names.items():
        write("codex", name, data)


def record_gemini(tmp):
    repo = scratch_repo(tmp)
    install(repo, "gemini")
    outdir = tmp / "payloads"
    outdir.mkdir()
    add_recorder(repo.path / ".gemini" / "settings.json", ("SessionStart", "BeforeAgent", "BeforeTool", "AfterTool",
                                                           "AfterAgent", "SessionEnd", "PreCompress"), outdir)
    gemini = Gemini(repo)
    gemini.trust()
    app = str(repo.path / "src" / "app.py")
    calls = [
        Call("replace", {"file_path": app, "old_string": "return None", "new_string": "return user",
                         "instruction": "return the user"}),
        Call("write_file", {"file_path": app, "content": "def login(user):\n    return user\n"}),
        Call("run_shell_command", {"command": "printf 'x' >> app.py", "description": "append", "dir_path": "src"}),
    ]
    run = gemini.run(*[Reply(c) for c in calls], Reply(text="Done."), prompt="continue with the login work")
    assert run.code == 0, run
    names = {}
    for data in recorded(outdir):
        event, tool = data["hook_event_name"], data.get("tool_name")
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", event).lower()
        name = f"{snake}_{tool}" if tool else snake
        if name not in names:
            names[name] = stable(data, repo, "gemini")
    for name, data in names.items():
        write("gemini", name, data)


def main(argv):
    agents = argv or ["codex", "gemini"]
    with tempfile.TemporaryDirectory(prefix="agent-sync-record-") as tmp:
        pyz = Path(tmp) / "agent-sync.pyz"
        build.write(pyz, build.archive_bytes())
        conftest.PYZ = pyz
        for agent in agents:
            work = Path(tmp) / agent
            work.mkdir()
            {"codex": record_codex, "gemini": record_gemini}[agent](work)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
