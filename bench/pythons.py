#!/usr/bin/env python3
"""Per-Python hook table and the MCP round trip (issue 15).

    .venv/bin/python bench/pythons.py [--runs 30] [--mcp-calls 400]    (also sections of bench/run.py)

Hooks: for every CPython 3.10+ found (pyenv's, or python3.1x on PATH), the archive is re-stamped with
that interpreter's bytecode exactly as `install` does (agent_sync.install.archive.for_interpreter),
and the installer's hook command line runs with it, turn about with that interpreter's own floor
`python -I -S -c pass`.

MCP: `python3 -I -S agent-sync.pyz mcp` is started once; after the handshake, tools/call requests
for `status` and for `lock` (each lock followed by an unlock, not timed) are sent one at a time,
and each is timed from writing the request line to reading its answer. p50 and p99 per tool.
"""

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent_sync.install import archive, command_line  # noqa: E402
from bench import run as hookbench  # noqa: E402

HOOK_TARGETS = {"pre-tool-use Edit, unlocked, 50 live locks": 1.5, "user-prompt-submit, nothing pending": 1.5,
                "pre-tool-use Edit, blocked (slow path)": 2.0}
MCP_TARGET_MS = 5.0


def interpreters():
    """{"3.x.y": path} for each CPython 3.10+ here, one per minor version."""
    found = {}
    candidates = sorted(glob.glob("/root/.pyenv/versions/3.*/bin/python3")) + [
        shutil.which(f"python3.{minor}") or "" for minor in range(10, 15)] + [sys.executable]
    for path in candidates:
        if not path:
            continue
        proc = subprocess.run([path, "-I", "-S", "-c", "import sys;print('%d.%d.%d' % sys.version_info[:3])"],
                              capture_output=True, text=True)
        version = proc.stdout.strip()
        if proc.returncode != 0 or tuple(int(p) for p in version.split(".")[:2]) < (3, 10):
            continue
        minor = ".".join(version.split(".")[:2])
        if not any(v.startswith(minor + ".") for v in found):
            found[version] = os.path.realpath(path)
    return dict(sorted(found.items(), key=lambda kv: tuple(int(p) for p in kv[0].split("."))))


def hook_table(runs):
    """Print the per-Python table; return the cases that missed their target."""
    live, _patterns = hookbench.seeded_repos()
    cases = [c for c in hookbench.hook_cases(live, _patterns, live) if c[0] in HOOK_TARGETS]
    built = hookbench.PYZ.read_bytes()
    installed = live / hookbench.SKILL_PYZ
    found = interpreters()
    print(f"== Hooks per Python: the installer's command with each interpreter, the archive re-stamped for it "
          f"as install does; {runs} runs, medians")
    print(f"{'python':8} {'case':42} {'hook ms':>8} {'floor ms':>8} {'ratio':>6}  verdict")
    missed = []
    try:
        for version, python in found.items():
            stamped, _changed = archive.for_interpreter(built, (python,))
            installed.write_bytes(stamped)
            prefix = command_line.prefix(python=python)
            floor = f"{python} -I -S -c pass"
            for name, repo, event, data, expect, _target in cases:
                target = HOOK_TARGETS[name]
                env = hookbench.base_env(CLAUDE_PROJECT_DIR=str(repo))
                hook, base = hookbench.alternate(f"{prefix} {event}", floor, runs, data, repo, env, expect=expect)
                ratio = hook / base
                ok = ratio <= target
                if not ok:
                    missed.append(f"{name} on {version}: {ratio:.2f}x > {target}x")
                print(f"{version:8} {name:42} {hook * 1000:8.1f} {base * 1000:8.1f} {ratio:6.2f}  "
                      f"{'PASS' if ok else 'FAIL'} <={target}x")
    finally:
        installed.write_bytes(built)
    return missed


def _percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def mcp_round_trip(calls):
    """Print p50/p99 for status and lock tools/call; return misses."""
    repo = hookbench.new_repo("mcp")
    env = hookbench.base_env(AGENT_SYNC_ID="mcp-bench")
    proc = subprocess.Popen([os.path.realpath(sys.executable), "-I", "-S", str(repo / hookbench.SKILL_PYZ), "mcp"],
                            cwd=repo, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    next_id = [0]

    def call(method, params=None, notify=False):
        message = {"jsonrpc": "2.0", "method": method, "params": params or {}}
        if not notify:
            next_id[0] += 1
            message["id"] = next_id[0]
        start = time.perf_counter()
        proc.stdin.write((json.dumps(message) + "\n").encode())
        proc.stdin.flush()
        if notify:
            return None, 0.0
        reply = json.loads(proc.stdout.readline())
        elapsed = time.perf_counter() - start
        if "error" in reply or reply.get("result", {}).get("isError"):
            raise RuntimeError(f"{method} {params}: {reply}")
        return reply, elapsed

    try:
        call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                            "clientInfo": {"name": "bench", "version": "1"}})
        call("notifications/initialized", notify=True)
        times = {"status": [], "lock": []}
        for i in range(calls + 20):
            _r, status = call("tools/call", {"name": "status", "arguments": {"compact": True}})
            _r, lock = call("tools/call", {"name": "lock", "arguments": {"paths": [f"src/m{i % 7}.py"]}})
            call("tools/call", {"name": "unlock", "arguments": {"paths": [f"src/m{i % 7}.py"]}})
            if i >= 20:  # warm-up
                times["status"].append(status)
                times["lock"].append(lock)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    print(f"== MCP round trip: tools/call on one running server ({calls} calls each, after 20 warm-up)")
    missed = []
    for tool, values in times.items():
        p50, p99 = statistics.median(values) * 1000, _percentile(values, 0.99) * 1000
        ok = p50 < MCP_TARGET_MS
        if not ok:
            missed.append(f"MCP {tool}: p50 {p50:.2f} ms >= {MCP_TARGET_MS} ms")
        print(f"  {tool:8} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   {'PASS' if ok else 'FAIL'} p50 <{MCP_TARGET_MS:g} ms")
    return missed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="runs per hook case and Python (default 30)")
    parser.add_argument("--mcp-calls", type=int, default=400, help="timed calls per MCP tool (default 400)")
    parser.add_argument("--only", choices=("hooks", "mcp"), help="one section")
    args = parser.parse_args(argv)
    hookbench.OUT.mkdir(parents=True, exist_ok=True)
    missed = []
    if args.only != "mcp":
        missed += hook_table(args.runs)
        print()
    if args.only != "hooks":
        missed += mcp_round_trip(args.mcp_calls)
    print("\n".join(["", "Targets missed:", *missed]) if missed else "\nAll targets in this section met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
