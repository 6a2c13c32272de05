"""The real agent CLIs the agent tier drives, pinned, installed from npm into a cache folder.

`python3 tests/agents/clis.py` installs whatever is missing; tests call `binary(name)`.
Each CLI lands in its own prefix, `.cache/agent-clis/<name>-<version>/`, so a pin change
installs beside the old one. Native binaries arrive as the packages' optional dependencies.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("AGENT_SYNC_CLI_CACHE", ROOT / ".cache" / "agent-clis"))

# name: (npm package, pinned version, executable name)
PINS = {
    "claude": ("@anthropic-ai/claude-code", "2.1.332", "claude"),
    "codex": ("@openai/codex", "0.171.0", "codex"),
    "gemini": ("@google/gemini-cli", "0.61.0", "gemini"),
    "copilot": ("@github/copilot", "1.0.102", "copilot"),
}


def prefix(name):
    package, version, _exe = PINS[name]
    return CACHE / f"{name}-{version}"


def binary(name):
    """Path of the installed executable; installs it first when absent."""
    path = prefix(name) / "node_modules" / ".bin" / PINS[name][2]
    if not path.exists():
        install(name)
    return path


def install(name):
    """npm install into a private folder, then move it into place (parallel test workers may race here)."""
    package, version, _exe = PINS[name]
    target = prefix(name)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is required to install the agent CLIs")
    subprocess.run([npm, "install", "--prefix", str(partial), "--no-audit", "--no-fund", "--loglevel=error",
                    "--include=optional", f"{package}@{version}"], check=True, env=_npm_env())
    try:
        os.replace(partial, target)
    except OSError:
        if not (target / "node_modules" / ".bin" / PINS[name][2]).exists():
            raise
        shutil.rmtree(partial, ignore_errors=True)  # another worker got there first


def _npm_env():
    env = dict(os.environ)
    env.setdefault("npm_config_update_notifier", "false")
    return env


def main(argv):
    names = argv or list(PINS)
    for name in names:
        print(f"{name}: {binary(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
