"""Run the real Codex CLI and Gemini CLI, non-interactively, against a scripted model on 127.0.0.1.

Each run gets the test's throwaway HOME (and CODEX_HOME inside it), no
telemetry, and proxy variables that point every non-loopback connection at a
closed loopback port, so nothing leaves the machine. `trust()` does what a user
does to let the agent run the project's hooks:
- Codex: trust the project, and review the hooks (`/hooks`), which records
  each hook's hash under `[hooks.state]` in config.toml (the hash is
  agent-sync's own `install.trust.codex_hook_hashes`, so Codex itself checks it);
- Gemini: trust the folder, which records it in ~/.gemini/trustedFolders.json.
"""

import json
import os
import subprocess
from pathlib import Path

import clis
from fake_gemini import FakeGemini
from fake_responses import FakeResponses
from scripted_model import Call, Reply  # noqa: F401 - re-exported for the tests

from agent_sync.install import trust
from bench.stress import clean_env

OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "ALL_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost",
           "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9", "no_proxy": "127.0.0.1,localhost"}
RUN_TIMEOUT = 120


class Finished:
    """One finished CLI run: exit code, output, and the server that played the model."""

    def __init__(self, proc, server):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.server = server

    def output(self, call):
        return self.server.tool_output(call)

    def __repr__(self):
        return f"Finished(code={self.code}, out={self.out[-1500:]!r}, err={self.err[-3000:]!r})"


class Driver:
    """What both CLIs share: the repo, the throwaway HOME, and one run of the CLI."""

    server_class = None

    def __init__(self, repo):
        self.repo = repo
        self.home = Path(repo.home)
        self.binary = str(clis.binary(self.name))

    def env(self, server):
        return clean_env(self.home, PATH=os.environ["PATH"], TERM="dumb", NO_COLOR="1", **OFFLINE)

    def run(self, *steps, prompt="go on", args=(), cwd=None, env=None, server_options=None):
        """Run the CLI once with the model scripted by `steps`; the server stops when the CLI exits."""
        with self.server_class(steps, **(server_options or {})) as server:
            self.prepare(server)
            merged = self.env(server)
            merged.update(env or {})
            proc = subprocess.run([self.binary, *self.command(prompt, args)], cwd=str(cwd or self.repo.path),
                                  env=merged, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT)
        assert not server.errors, server.errors
        return Finished(proc, server)

    def prepare(self, server):
        pass


class Codex(Driver):
    name = "codex"
    server_class = FakeResponses
    model = "gpt-5.5"  # a model Codex knows, so it offers its apply_patch tool

    def __init__(self, repo):
        super().__init__(repo)
        self.codex_home = self.home / ".codex"
        self.codex_home.mkdir(parents=True, exist_ok=True)
        self.trusted = ""
        self.extra_config = ""  # more top-level config.toml lines

    def config(self, server):
        return "\n".join([
            f'model = "{self.model}"',
            'model_provider = "scripted"',
            'approval_policy = "never"',
            'sandbox_mode = "danger-full-access"',
            "check_for_update_on_startup = false",
            self.extra_config,
            "",
            "[model_providers.scripted]",
            'name = "scripted"',
            f'base_url = "{server.url}/v1"',
            'wire_api = "responses"',
            'env_key = "SCRIPTED_API_KEY"',
            "request_max_retries = 0",
            "stream_max_retries = 0",
            "",
            "[analytics]",
            "enabled = false",
            "",
            self.trusted,
        ])

    def prepare(self, server):
        (self.codex_home / "config.toml").write_text(self.config(server), encoding="utf-8")

    def env(self, server):
        env = super().env(server)
        env.update(CODEX_HOME=str(self.codex_home), SCRIPTED_API_KEY="unused")
        return env

    def command(self, prompt, args):
        return ["exec", "--skip-git-repo-check", *args, prompt]

    def trust(self, project=True, hooks=True):
        """Trust the project and its hooks, as the trust prompt and the /hooks review would."""
        lines = []
        root = os.path.realpath(self.repo.path)
        if project:
            lines += [f"[projects.{json.dumps(root)}]", 'trust_level = "trusted"', ""]
        if hooks:
            hooks_json = os.path.join(root, ".codex", "hooks.json")
            for key, digest in trust.codex_hook_hashes(hooks_json, wanted=lambda _command: True):
                lines += [f"[hooks.state.{json.dumps(key)}]", f"trusted_hash = {json.dumps(digest)}", ""]
        self.trusted = "\n".join(lines)


class Gemini(Driver):
    name = "gemini"
    server_class = FakeGemini
    model = "gemini-2.5-pro"  # named, so the CLI does not ask a classifier which model to use

    def __init__(self, repo):
        super().__init__(repo)
        self.gemini_dir = self.home / ".gemini"
        self.gemini_dir.mkdir(parents=True, exist_ok=True)
        settings = {
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "privacy": {"usageStatisticsEnabled": False},
            "telemetry": {"enabled": False},
            "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
            "tools": {"useRipgrep": False},
        }
        (self.gemini_dir / "settings.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")

    def env(self, server):
        env = super().env(server)
        env.update(GEMINI_API_KEY="unused", GOOGLE_GEMINI_BASE_URL=server.url)
        return env

    def command(self, prompt, args):
        return ["--yolo", "--model", self.model, *args, "-p", prompt]

    @staticmethod
    def server_context(body):
        """All text of one request body, as the model saw it."""
        server = FakeGemini()
        try:
            server.requests.append(("", body))
            return server.context_text()
        finally:
            server.server_close()

    def trust(self):
        """Trust the folder, as the trust dialog's "Trust folder" would."""
        path = self.gemini_dir / "trustedFolders.json"
        path.write_text(json.dumps({os.path.realpath(self.repo.path): "TRUST_FOLDER"}, indent=2), encoding="utf-8")


def install(repo, agent):
    """agent-sync installed into the repo for `agent`, as a user would."""
    result = repo.ok("install", "--agent", agent)
    assert f"{agent} lock gate works" in result.out, result
    return result
