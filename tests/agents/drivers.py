"""Codex CLI (`codex exec`) and Gemini CLI (`gemini -p`), pinned, in a harness Sandbox, against a scripted model.

Each driver writes the CLI's user settings into the sandbox's HOME (no
telemetry, no update checks, the scripted model as provider) and does what a
user does to let the CLI run the project's hooks (`trust()`):
- Codex: trust the project, and review the hooks in `/hooks`, which records
  each hook's hash under `[hooks.state]` in ~/.codex/config.toml. The hashes
  come from agent-sync's own `install.trust.codex_hook_hashes`, so the real
  Codex checks them;
- Gemini: trust the folder, which records it in ~/.gemini/trustedFolders.json.
"""

import json
import os

from fake_gemini import FakeGemini
from fake_responses import FakeResponses
from harness import cli_binary, recorded, recorder_command

from agent_sync.install import trust

FILES = {"src/a.py": "a = 1\n", "src/b.py": "b = 1\n"}


class Driver:
    """One sandboxed repository with agent-sync installed for the CLI, and non-interactive runs in it."""

    name = None
    server_class = None

    def __init__(self, sandbox):
        self.box = sandbox
        self.binary = cli_binary(self.name)
        self.payloads = sandbox.base / "payloads"

    def setup(self, files=FILES, trust=True):
        for rel, text in files.items():
            self.box.write(rel, text)
        self.box.commit()
        self.installed = self.box.install(self.name)
        if trust:
            self.trust()
        return self

    def server(self, *replies, **kw):
        return self.server_class(*replies, **kw)

    def path(self, rel):
        return str(self.box.path(rel))

    def run(self, server, prompt="Work on the repository.", args=(), expect=0):
        """One run of the CLI with `server` as the model; the exit code must be `expect`."""
        with server:
            self.prepare(server)
            result = self.box.run([self.binary, *self.command(prompt, args)], self.env(server))
        server.check()
        assert result.code == expect, f"{result!r}\n{server.summary()}"
        return result

    def session_agent(self):
        """The id agent-sync gave this CLI's session (hooks hash the session id into `s-...`)."""
        ids = [a["id"] for a in self.box.json("agents", agent="owner")["agents"] if a["id"].startswith("s-")]
        assert len(ids) == 1, ids
        return ids[0]

    def payloads_of(self, event):
        return [payload for label, payload in recorded(self.payloads) if label == event]

    def add_recorder(self, config, events, **handler):
        """Put a hook that saves its payload first in every event of the CLI's project hooks file."""
        self.payloads.mkdir(exist_ok=True)
        path = self.box.path(config)
        doc = json.loads(path.read_text())
        for event in events:
            entry = {"type": "command", "command": recorder_command(self.box.python, self.payloads, event), **handler}
            doc["hooks"].setdefault(event, []).insert(0, {"hooks": [entry]})
        path.write_text(json.dumps(doc, indent=2))


class Codex(Driver):
    name = "codex"
    server_class = FakeResponses
    model = "gpt-5.5"  # a model Codex knows, so it offers its apply_patch tool
    EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SubagentStart", "SessionEnd",
              "PreCompact", "PostCompact")
    # features that reach github.com and chatgpt.com on their own (the plugin marketplace, connectors)
    OFFLINE_FEATURES = ("plugins", "apps")

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.codex_home = sandbox.home / ".codex"
        self.codex_home.mkdir(exist_ok=True)
        self.trusted = ""
        self.extra_config = ""  # more top-level config.toml lines

    def prepare(self, server):
        (self.codex_home / "config.toml").write_text("\n".join([
            f'model = "{self.model}"', 'model_provider = "scripted"', 'approval_policy = "never"',
            'sandbox_mode = "danger-full-access"', "check_for_update_on_startup = false", self.extra_config, "",
            "[model_providers.scripted]", 'name = "scripted"', f'base_url = "{server.url}/v1"', 'wire_api = "responses"',
            'env_key = "SCRIPTED_API_KEY"', "request_max_retries = 0", "stream_max_retries = 0", "",
            "[analytics]", "enabled = false", "", "[features]", *(f"{name} = false" for name in self.OFFLINE_FEATURES),
            "", self.trusted]), encoding="utf-8")

    def env(self, server):
        return self.box.env(SCRIPTED_API_KEY="sk-tier-test")

    def command(self, prompt, args):
        return ["exec", "--skip-git-repo-check", *args, prompt]

    def trust(self, project=True, hooks=True):
        """Trust the project and its hooks, as the trust prompt and the /hooks review would."""
        lines = []
        root = os.path.realpath(self.box.repo)
        if project:
            lines += [f"[projects.{json.dumps(root)}]", 'trust_level = "trusted"', ""]
        if hooks:
            hooks_json = os.path.join(root, ".codex", "hooks.json")
            for key, digest in trust.codex_hook_hashes(hooks_json, wanted=lambda _command: True):
                lines += [f"[hooks.state.{json.dumps(key)}]", f"trusted_hash = {json.dumps(digest)}", ""]
        self.trusted = "\n".join(lines)

    def record_payloads(self):
        self.add_recorder(".codex/hooks.json", self.EVENTS, timeout=10)
        self.trust()  # the recorder is a new hook: review it too


class Gemini(Driver):
    name = "gemini"
    server_class = FakeGemini
    model = "gemini-2.5-pro"  # named, so the CLI does not ask a classifier which model to use
    EVENTS = ("SessionStart", "BeforeAgent", "BeforeTool", "AfterTool", "AfterAgent", "SessionEnd", "PreCompress")

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.gemini_dir = sandbox.home / ".gemini"
        self.gemini_dir.mkdir(exist_ok=True)
        settings = {
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "privacy": {"usageStatisticsEnabled": False},
            "telemetry": {"enabled": False},
            "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
            "tools": {"useRipgrep": False},
        }
        (self.gemini_dir / "settings.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")

    def prepare(self, server):
        pass

    def env(self, server):
        return self.box.env(GEMINI_API_KEY="tier-test", GOOGLE_GEMINI_BASE_URL=server.url)

    def command(self, prompt, args):
        return ["--yolo", "--model", self.model, *args, "-p", prompt]

    def trust(self):
        """Trust the folder, as the trust dialog's "Trust folder" would."""
        path = self.gemini_dir / "trustedFolders.json"
        path.write_text(json.dumps({os.path.realpath(self.box.repo): "TRUST_FOLDER"}, indent=2), encoding="utf-8")

    def untrust(self):
        (self.gemini_dir / "trustedFolders.json").unlink()

    def record_payloads(self):
        self.add_recorder(".gemini/settings.json", self.EVENTS, name="recorder", timeout=10000)
