"""Shared fixtures: the built artifact, an isolated temporary git repo, and a runner.

Every test that runs the tool runs dist/agent-sync.pyz as a subprocess, the
way hooks and people do, with HOME and every variable the tool reads
pointed into the test's own temporary directory.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYZ = ROOT / "dist" / "agent-sync.pyz"
sys.path.insert(0, str(ROOT))

import build  # noqa: E402

# clean_env: HOME and every variable the tool reads, isolated (shared with bench/stress.py).
from bench.stress import HOOK_LAUNCH, TOOL_VARS, clean_env  # noqa: E402,F401


def pytest_configure(config):
    """Make sure dist/agent-sync.pyz is the build of the sources under test.

    Each test process then runs its own byte-identical copy, so a rebuild in
    another process can never swap the archive under a running test.
    """
    global PYZ
    fresh = build.archive_bytes()
    if not PYZ.exists() or PYZ.read_bytes() != fresh:
        build.write(PYZ, fresh)
    copy = Path(tempfile.mkdtemp(prefix="agent-sync-pyz-")) / "agent-sync.pyz"
    build.write(copy, fresh)
    PYZ = copy


class Repo:
    """A temporary git repository and a way to run agent-sync inside it."""

    def __init__(self, path, home):
        self.path = path
        self.home = home
        self.env = {}

    def run(self, *args, agent=None, input=None, cwd=None, env=None, timeout=60, check=None, installed_hook=False):
        """Run the pyz. `agent` sets AGENT_SYNC_ID; `check` asserts the exit code.

        `installed_hook`: run it the way the command `install` writes does (`python3 -I -S -c ...
        PYZ ARGS`, the hook entry that answers in the agent's own format), not as `agent-sync ARGS`.
        """
        merged = dict(self.env)
        if agent is not None:
            merged["AGENT_SYNC_ID"] = agent
        merged.update(env or {})
        head = [sys.executable, "-I", "-S", "-c", HOOK_LAUNCH, str(PYZ)] if installed_hook else [sys.executable, str(PYZ)]
        proc = subprocess.run(
            [*head, *map(str, args)],
            cwd=str(cwd or self.path), env=clean_env(self.home, **merged),
            input=input if input is None or isinstance(input, bytes) else input.encode(),
            capture_output=True, timeout=timeout,
        )
        result = Result(proc)
        assert "Traceback" not in result.err, result.err
        if check is not None:
            assert result.code == check, f"exit {result.code} != {check}\nstdout: {result.out}\nstderr: {result.err}"
        return result

    def ok(self, *args, **kw):
        return self.run(*args, check=0, **kw)

    def json(self, *args, **kw):
        return json.loads(self.ok(*args, "--json", **kw).out)

    def hook(self, event, payload, agent=None, env=None, **kw):
        data = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        return self.run("hook", event, input=data, agent=agent, env=env, **kw)

    @property
    def db(self):
        return self.path / ".claude" / "coordination" / "state.sqlite"


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout.decode("utf-8", "replace")
        self.err = proc.stderr.decode("utf-8", "replace")

    def __repr__(self):
        return f"Result(code={self.code}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "repo"
    path.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=clean_env(home))
    return Repo(path, home)
