"""Shared fixtures: the built artifact, an isolated temporary git repo, and a runner.

Every test that runs the tool runs the archive built from the sources under
test (PYZ: a fresh `build.py --out` into a temporary folder, never dist/) as
a subprocess, the way hooks and people do, with HOME and every variable the
tool reads pointed into the test's own temporary directory.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYZ = ROOT / "dist" / "agent-sync.pyz"  # replaced by the test build in pytest_configure
BUILT_PYZ_VAR = "AGENT_SYNC_TEST_PYZ"  # the controller's build, handed to xdist workers
sys.path.insert(0, str(ROOT))

# clean_env: HOME and every variable the tool reads, isolated (shared with the scenarios bench/ runs).
from environment import HOOK_LAUNCH, TOOL_VARS, clean_env  # noqa: E402,F401


def build_archive(folder):
    """Build the sources under test into `folder` in a fresh process; the archive's path."""
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "--out", str(folder)], cwd=str(ROOT),
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise pytest.UsageError(f"build.py --out failed:\n{proc.stdout}{proc.stderr}")
    return Path(folder) / "agent-sync.pyz"


def pytest_configure(config):
    """Build the archive once per test session, into a temporary folder (dist/ is never touched).

    xdist workers start after this runs in the controller and inherit its
    environment, so they reuse its build instead of building their own.
    """
    global PYZ
    handed = os.environ.get(BUILT_PYZ_VAR)
    if os.environ.get("PYTEST_XDIST_WORKER") and handed and Path(handed).is_file():
        PYZ = Path(handed)
        return
    folder = tempfile.mkdtemp(prefix="agent-sync-pyz-")
    config._agent_sync_build = folder
    PYZ = build_archive(folder)
    os.environ[BUILT_PYZ_VAR] = str(PYZ)


def pytest_unconfigure(config):
    folder = getattr(config, "_agent_sync_build", None)
    if folder:
        os.environ.pop(BUILT_PYZ_VAR, None)
        shutil.rmtree(folder, ignore_errors=True)


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


# `make test-etcd` sets AGENT_SYNC_TEST_STORE=etcd: the same black-box tests then run every command
# against a real etcd member (one per session), each test in a namespace of its own.
STORE = os.environ.get("AGENT_SYNC_TEST_STORE", "sqlite")
if STORE == "etcd":
    from etcd_fixtures import etcd_shared  # noqa: E402,F401


@pytest.fixture
def repo(tmp_path, request):
    path = tmp_path / "repo"
    path.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=clean_env(home))
    made = Repo(path, home)
    if STORE == "etcd":
        import uuid

        (path / ".claude").mkdir()
        (path / ".claude" / "agent-sync.json").write_text(json.dumps({"namespace": "t-" + uuid.uuid4().hex[:12]}))
        made.env["AGENT_SYNC_BACKEND"] = request.getfixturevalue("etcd_shared").url
    return made
