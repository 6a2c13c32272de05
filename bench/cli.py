#!/usr/bin/env python3
"""CLI start-up benchmarks (issue 15): every README command through the installed launcher, and a
16 x 5 concurrent lock/unlock storm against claude-agent-sync 0.4.0.

    .venv/bin/python bench/cli.py [--runs 15] [--no-upstream]    (also a section of bench/run.py)

Each command runs as an agent types it, `.claude/skills/agent-sync/scripts/agent-sync ARGS` through
`sh -c`, in a scratch repository that `install` set up, turn about with the floor
`python3 -I -S -c pass` (the same `python3` on PATH the launcher finds). A row of two commands
(lock + unlock) is compared with two floors. Medians; the ratio is the figure that counts.
"""

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run as hookbench  # noqa: E402 - scratch repositories, environments, upstream venv

LAUNCHER = Path(".claude") / "skills" / "agent-sync" / "scripts" / "agent-sync"
FLOOR = "python3 -I -S -c pass"
TARGET = 2.5
META_TARGET = 2.0  # --version, --help
STORM_AGENTS, STORM_CYCLES, STORM_TARGET = 16, 5, 0.4


def real_python_env(**extra):
    """base_env with the real interpreter first on PATH as `python3`: a pyenv shim (a bash script) adds tens
    of milliseconds to the command and to the floor alike, which would hide what agent-sync costs."""
    folder = hookbench.OUT / "python-bin"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "python3"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.realpath(sys.executable))
    env = hookbench.base_env(**extra)
    env["PATH"] = f"{folder}{os.pathsep}{env.get('PATH', '')}"
    return env


def installed_repo(name):
    """A scratch git repository with agent-sync installed by its own `install` (launcher included)."""
    repo = hookbench.new_repo(name)
    proc = subprocess.run([sys.executable, str(hookbench.PYZ), "install"], cwd=repo, env=hookbench.base_env(),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"install failed: {proc.stderr.strip()[-400:]}")
    return repo


def measure(make_command, floors, runs, cwd, env, warmup=3):
    """Median seconds of make_command(i) and of `floors` floor runs chained, turn about (floor first)."""
    floor = " && ".join([FLOOR] * floors)

    def one(command):
        start = time.perf_counter()
        proc = subprocess.run(["sh", "-c", command], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"exit {proc.returncode} from {command}: {proc.stderr.decode(errors='replace')[:400]}")
        return elapsed

    ours, base = [], []
    for i in range(warmup + runs):
        b = one(floor)
        a = one(make_command(i))
        if i >= warmup:
            ours.append(a)
            base.append(b)
    return statistics.median(ours), statistics.median(base)


def cases(repo, runs):
    """(name, command for run i, floors, target): every command of the README's reference that an agent
    types. doctor is reported only: it starts the installed hooks to test them."""
    total = runs + 3
    L = shlex.quote(str(LAUNCHER))
    env = real_python_env(AGENT_SYNC_ID="bench-me")

    def setup(*args):
        proc = subprocess.run([str(repo / LAUNCHER), *args], cwd=repo, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {proc.stderr.strip()[:300]}")
        return proc.stdout

    setup("register", "--name", "me", "--role", "bench")
    for i in range(3 * total):
        setup("create-task", f"task {i}", "--file", f"src/t{i}.py")
    for i in range(total):
        subprocess.run([str(repo / LAUNCHER), "send", "--to", "bench-me", "--message", f"note {i}"], cwd=repo,
                       env={**env, "AGENT_SYNC_ID": "bench-other"}, check=True, capture_output=True)
    first_message = 1
    # tasks 1..total: claim-task/complete-task rows; the rest: claim-next + block/cancel/reopen
    c = lambda *words: f"{L} " + " ".join(shlex.quote(w) for w in words)  # noqa: E731
    return env, [
        ("--version", lambda i: c("--version"), 1, META_TARGET),
        ("--help", lambda i: c("--help"), 1, META_TARGET),
        ("init", lambda i: c("init"), 1, TARGET),
        ("register", lambda i: c("register", "--name", "me", "--role", "bench"), 1, TARGET),
        ("heartbeat", lambda i: c("heartbeat"), 1, TARGET),
        ("whoami", lambda i: c("whoami"), 1, TARGET),
        ("agents", lambda i: c("agents"), 1, TARGET),
        ("status", lambda i: c("status"), 1, TARGET),
        ("status --compact", lambda i: c("status", "--compact"), 1, TARGET),
        ("status --json", lambda i: c("status", "--json"), 1, TARGET),
        ("tasks", lambda i: c("tasks"), 1, TARGET),
        ("create-task", lambda i: c("create-task", f"extra {i}"), 1, TARGET),
        ("claim-task", lambda i: c("claim-task", str(i + 1)), 1, TARGET),
        ("complete-task", lambda i: c("complete-task", str(i + 1)), 1, TARGET),
        ("claim-next", lambda i: c("claim-next"), 1, TARGET),
        ("block-task", lambda i: c("block-task", str(total + i + 1), "--reason", "bench"), 1, TARGET),
        ("reopen-task", lambda i: c("reopen-task", str(total + i + 1)), 1, TARGET),
        ("cancel-task", lambda i: c("cancel-task", str(total + i + 1), "--force"), 1, TARGET),
        ("lock + unlock", lambda i: f"{c('lock', 'src/app.py', '--reason', 'bench')} && {c('unlock', 'src/app.py')}",
         2, TARGET),
        ("lock (2 paths, pattern)", lambda i: c("lock", f"docs/{i}.md", f"gen/{i}/**", "--ttl", "5m"), 1, TARGET),
        ("renew", lambda i: c("renew"), 1, TARGET),
        ("locks", lambda i: c("locks"), 1, TARGET),
        ("unlock (2 paths)", lambda i: c("unlock", f"docs/{i}.md", f"gen/{i}/**"), 1, TARGET),
        ("send", lambda i: c("send", "--to", "all", "--message", f"hello {i}"), 1, TARGET),
        ("inbox", lambda i: c("inbox"), 1, TARGET),
        ("inbox --all", lambda i: c("inbox", "--all"), 1, TARGET),
        ("read-message", lambda i: c("read-message", str(first_message + i)), 1, TARGET),
        ("ack", lambda i: c("ack", str(first_message + i)), 1, TARGET),
        ("decision", lambda i: c("decision", f"decided {i}"), 1, TARGET),
        ("decisions", lambda i: c("decisions"), 1, TARGET),
        ("log", lambda i: c("log", "--type", "note", "--message", f"entry {i}"), 1, TARGET),
        ("gc", lambda i: c("gc"), 1, TARGET),
        ("doctor", lambda i: c("doctor"), 1, None),
    ]


def cli_table(runs):
    """Print the table; return the rows that missed their target."""
    repo = installed_repo("cli")
    env, rows = cases(repo, runs)
    print(f"== CLI through the installed launcher ({LAUNCHER}); floor = `{FLOOR}` per command, "
          f"{runs} runs, medians; python3 on PATH = {os.path.realpath(sys.executable)}")
    print(f"{'command':28} {'ours ms':>8} {'floor ms':>8} {'ratio':>6}  verdict")
    missed = []
    for name, make, floors, target in rows:
        ours, base = measure(make, floors, runs, repo, env)
        ratio = ours / base
        verdict = "  (report)" if target is None else f"  {'PASS' if ratio <= target else 'FAIL'} <={target}x"
        if target is not None and ratio > target:
            missed.append(f"CLI {name}: {ratio:.2f}x > {target}x")
        print(f"{name:28} {ours * 1000:8.1f} {base * 1000:8.1f} {ratio:6.2f}{verdict}")
    return missed


# ---------------------------------------------------------------------------
# The storm


def _storm(commands_for, cwd, env_for):
    """Start STORM_AGENTS shell loops at once; (seconds until the last ends, failed commands)."""
    start = time.perf_counter()
    procs = [subprocess.Popen(["sh", "-c", commands_for(k)], cwd=cwd, env=env_for(k), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for k in range(STORM_AGENTS)]
    errors = 0
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        errors += err.decode(errors="replace").count("FAILED ")
    return time.perf_counter() - start, errors


def _loop(lock, unlock):
    one = f"{lock} >/dev/null || echo FAILED lock >&2; {unlock} >/dev/null || echo FAILED unlock >&2"
    return f"for i in {' '.join(str(n) for n in range(STORM_CYCLES))}; do {one}; done"


def storm(rounds=3, upstream=True):
    """16 agents x 5 lock+unlock cycles at once, ours (launcher) vs upstream (its console script). Returns misses."""
    print(f"== Storm: {STORM_AGENTS} agents x {STORM_CYCLES} lock+unlock cycles at once, each on its own file; "
          f"median of {rounds} rounds")
    repo = installed_repo("storm")
    L = shlex.quote(str(LAUNCHER))
    ours_env = lambda k: real_python_env(AGENT_SYNC_ID=f"storm-{k:02d}")  # noqa: E731
    ours_cmd = lambda k: _loop(f"{L} lock src/f{k:02d}.py --reason storm", f"{L} unlock src/f{k:02d}.py")  # noqa: E731
    ours = [_storm(ours_cmd, repo, ours_env) for _ in range(rounds)]
    ours_s, ours_errors = statistics.median(t for t, _ in ours), sum(e for _, e in ours)
    print(f"  agent-sync:            {ours_s:7.2f} s   errors {ours_errors}")
    missed = [] if ours_errors == 0 else [f"storm: {ours_errors} failed commands"]
    if not upstream:
        print("  upstream skipped (--no-upstream)")
        return missed
    exe, why = hookbench.upstream_install()
    if exe is None:
        print(f"  upstream skipped: {why}")
        return missed + ["storm: no upstream to compare with"]
    up_repo = hookbench.OUT / "work" / "storm-upstream"
    subprocess.run(["rm", "-rf", str(up_repo)], check=True)
    (up_repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(up_repo)], check=True)
    U = shlex.quote(str(exe))
    up_env = lambda k: hookbench.base_env(AGENT_SYNC_ID=f"storm-{k:02d}")  # noqa: E731
    subprocess.run([str(exe), "init"], cwd=up_repo, env=up_env(0), check=True, capture_output=True)
    up_cmd = lambda k: _loop(f"{U} lock src/f{k:02d}.py --reason storm", f"{U} unlock src/f{k:02d}.py")  # noqa: E731
    up = [_storm(up_cmd, up_repo, up_env) for _ in range(rounds)]
    up_s, up_errors = statistics.median(t for t, _ in up), sum(e for _, e in up)
    ratio = ours_s / up_s
    print(f"  claude-agent-sync 0.4.0: {up_s:7.2f} s   errors {up_errors}")
    print(f"  ours/upstream:         {ratio:7.2f}   {'PASS' if ratio <= STORM_TARGET else 'FAIL'} <={STORM_TARGET}x")
    if ratio > STORM_TARGET:
        missed.append(f"storm: {ratio:.2f}x upstream's time > {STORM_TARGET}x")
    return missed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (default 15)")
    parser.add_argument("--no-upstream", action="store_true", help="skip claude-agent-sync in the storm")
    parser.add_argument("--only", choices=("table", "storm"), help="one section")
    args = parser.parse_args(argv)
    hookbench.OUT.mkdir(parents=True, exist_ok=True)
    missed = []
    if args.only != "storm":
        missed += cli_table(args.runs)
        print()
    if args.only != "table":
        missed += storm(upstream=not args.no_upstream)
    print("\n".join(["", "Targets missed:", *missed]) if missed else "\nAll CLI targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
