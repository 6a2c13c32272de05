#!/usr/bin/env python3
"""The etcd store beside the SQLite store, in one run (see bench/README.md).

    .venv/bin/python bench/etcd.py [--members 3] [--runs 200] [--hook-runs 30] [--procs 16]

A real etcd cluster on loopback (tests/etcd_cluster.py: tmpfs data dirs, short
raft timers), two clones of one repository for etcd and one repository for
SQLite. Measured, per store:
- hook latency: the pre-tool-use hook's allowed path (a lock held on another
  file, so the hook reads the lock index), the built archive as a subprocess,
  the two stores alternating, medians;
- lock (acquire of one file) and claim (claim-next) latency, p50 and p99, in
  process through the Store interface, so process start-up is not in them;
- cross-clone propagation (etcd): a lock taken in clone A until clone B's
  hook cache (its lock index, kept by B's watcher) lists it, p50 and p99;
- throughput: --procs processes, each locking and unlocking its own file,
  all started together: operations (lock + unlock = 2) per second.
Numbers are printed and written to bench/out/etcd.json; nothing here is a test.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYZ = ROOT / "dist" / "agent-sync.pyz"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(PYZ))

from etcd_cluster import Cluster  # noqa: E402

from agent_sync.core import lockspec  # noqa: E402
from agent_sync.core.context import Context  # noqa: E402
from agent_sync.core.identity import Identity  # noqa: E402

WORKER = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
from agent_sync.core import lockspec
from agent_sync.core.context import Context
from agent_sync.core.identity import Identity
root, agent, n, go = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
ctx = Context(root=root, cwd=root, me=Identity(agent, "bench"))
ctx.store.check_in()
spec = lockspec.parse(ctx, f"src/{agent}.py")
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
start = time.monotonic()
for _ in range(n):
    ctx.store.acquire([spec], ttl=600)
    ctx.store.release([spec])
print(start, time.monotonic(), flush=True)
"""


def env_for(home, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_SYNC_", "CLAUDE_"))}
    env.pop("PYTHONPATH", None)
    env.update(HOME=str(home), LC_ALL="C.UTF-8", **extra)
    return env


def git(*args, cwd, home):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=env_for(home, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@e", GIT_COMMITTER_NAME="b",
                               GIT_COMMITTER_EMAIL="b@e"))


def make_repo(path, home, url=None):
    path.mkdir(parents=True)
    git("init", "-q", ".", cwd=path, home=home)
    (path / ".claude").mkdir()
    (path / ".gitignore").write_text(".claude/coordination/\n")
    (path / "src").mkdir()
    (path / "src" / "app.py").write_text("x = 1\n")
    if url:
        (path / ".claude" / "agent-sync.json").write_text(json.dumps({"backend": url}))
    git("add", "-A", cwd=path, home=home)
    git("commit", "-q", "-m", "first", cwd=path, home=home)
    return path


def cli(repo, home, *args, agent="bench-holder"):
    return subprocess.run([sys.executable, str(PYZ), *args], cwd=repo, capture_output=True, text=True, check=True,
                          env=env_for(home, AGENT_SYNC_ID=agent))


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def ms(seconds):
    return round(seconds * 1000, 2)


def hook_latency(repos, runs):
    """{store: median ms} of the allowed pre-tool-use path, the stores alternating run by run."""
    times = {name: [] for name in repos}
    for _ in range(runs + 3):
        for name, (repo, home) in repos.items():
            payload = json.dumps({"session_id": "bench-session", "cwd": str(repo), "tool_name": "Edit",
                                  "tool_input": {"file_path": str(repo / "src" / "app.py")}}).encode()
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-I", "-S", str(PYZ), "hook", "pre-tool-use"], input=payload,
                                  cwd=repo, capture_output=True, env=env_for(home, AGENT_SYNC_ID="bench-editor"))
            elapsed = time.perf_counter() - started
            if proc.returncode != 0 or proc.stderr:
                raise SystemExit(f"{name}: the hook did not allow quietly: {proc.stderr.decode()[:300]}")
            times[name].append(elapsed)
    return {name: ms(statistics.median(t[3:])) for name, t in times.items()}


def op_latency(repo, runs):
    """Lock and claim-next latency in process: ({p50, p99} ms, {p50, p99} ms)."""
    ctx = Context(root=str(repo), cwd=str(repo), me=Identity("bench-op", "bench"))
    try:
        ctx.store.check_in()
        lock_times = []
        for n in range(runs):
            spec = lockspec.parse(ctx, f"src/op{n % 20}.py")
            started = time.perf_counter()
            ctx.store.acquire([spec], ttl=600)
            lock_times.append(time.perf_counter() - started)
            ctx.store.release([spec])
        claims = min(runs, 100)
        for n in range(claims):
            ctx.store.create_task(f"bench task {n}")
        claim_times = []
        for _ in range(claims):
            started = time.perf_counter()
            task = ctx.store.claim_next()
            claim_times.append(time.perf_counter() - started)
            ctx.store.complete(str(task["id"]))
    finally:
        ctx.close()
    return ({"p50": ms(pct(lock_times, 0.5)), "p99": ms(pct(lock_times, 0.99))},
            {"p50": ms(pct(claim_times, 0.5)), "p99": ms(pct(claim_times, 0.99))})


def propagation(repo_a, repo_b, runs):
    """Lock in A until B's lock index lists it: {p50, p99} ms."""
    index = repo_b / ".claude" / "coordination" / "locks.idx"
    ctx = Context(root=str(repo_a), cwd=str(repo_a), me=Identity("bench-far", "bench"))
    times = []
    try:
        ctx.store.check_in()
        for n in range(runs):
            spec = lockspec.parse(ctx, f"src/far{n}.py")
            started = time.perf_counter()
            ctx.store.acquire([spec], ttl=600)
            needle = f"\tbench-far\tsrc/far{n}.py"
            while True:
                try:
                    if needle in index.read_text():
                        break
                except OSError:
                    pass
                if time.perf_counter() - started > 10:
                    raise SystemExit("propagation: clone B never saw the lock (is its watcher running?)")
                time.sleep(0.0005)
            times.append(time.perf_counter() - started)
            ctx.store.release([spec])
    finally:
        ctx.close()
    return {"p50": ms(pct(times, 0.5)), "p99": ms(pct(times, 0.99))}


def throughput(repo, home, procs, per_proc):
    go = Path(tempfile.mkdtemp()) / "go"
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(PYZ), str(repo), f"w{i}", str(per_proc), str(go)],
                                cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env_for(home)) for i in range(procs)]
    for w in workers:
        if w.stdout.readline().strip() != "ready":
            raise SystemExit(f"worker failed: {w.stderr.read()[:500]}")
    go.touch()
    spans = []
    for w in workers:
        out, err = w.communicate(timeout=600)
        if w.returncode != 0:
            raise SystemExit(f"worker failed: {err[:500]}")
        spans.append(tuple(map(float, out.split())))
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    return round(procs * per_proc * 2 / wall, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--hook-runs", type=int, default=30)
    parser.add_argument("--procs", type=int, default=16)
    parser.add_argument("--per-proc", type=int, default=20)
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="agent-sync-bench-etcd-"))
    with Cluster(args.members) as cluster:
        home = scratch / "home"
        home.mkdir()
        sqlite = make_repo(scratch / "sqlite", home)
        origin = make_repo(scratch / "origin", home, cluster.url)
        clone_a, clone_b = scratch / "a", scratch / "b"
        for clone in (clone_a, clone_b):
            git("clone", "-q", str(origin), str(clone), cwd=scratch, home=home)
        for repo in (sqlite, clone_a, clone_b):
            cli(repo, home, "lock", "src/held.py", "--reason", "bench")  # the index is never empty
        time.sleep(1.0)  # the watchers the commands started confirm their caches
        repos = {"sqlite": (sqlite, home), "etcd": (clone_b, home)}
        result = {"members": args.members, "etcd": {}, "sqlite": {}}
        result_hook = hook_latency(repos, args.hook_runs)
        for name, repo in (("sqlite", sqlite), ("etcd", clone_a)):
            lock, claim = op_latency(repo, args.runs)
            result[name].update(hook_ms=result_hook[name], lock_ms=lock, claim_ms=claim,
                                ops_per_s=throughput(repo, home, args.procs, args.per_proc))
        result["etcd"]["propagation_ms"] = propagation(clone_a, clone_b, min(args.runs, 100))
        for repo in (clone_a, clone_b):
            pid = repo / ".claude" / "coordination" / "etcd.watcher"
            try:
                os.kill(int(pid.read_text()), 15)
            except (OSError, ValueError):
                pass
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "etcd.json").write_text(json.dumps(result, indent=2))
    s, e = result["sqlite"], result["etcd"]
    print(f"etcd: {args.members} members on loopback; SQLite beside it; {args.procs}-process throughput")
    print(f"{'':28}{'sqlite':>16}{'etcd':>16}")
    print(f"{'hook (allowed path) median':28}{s['hook_ms']:>13} ms{e['hook_ms']:>13} ms"
          f"   ratio {e['hook_ms'] / s['hook_ms']:.2f}")
    for key, label in (("lock_ms", "lock p50 / p99"), ("claim_ms", "claim-next p50 / p99")):
        print(f"{label:28}{s[key]['p50']:>7}/{s[key]['p99']:<6}ms{e[key]['p50']:>7}/{e[key]['p99']:<6}ms")
    p = e["propagation_ms"]
    print(f"{'cross-clone propagation':28}{'(one file)':>16}{p['p50']:>7}/{p['p99']:<6}ms")
    print(f"{'throughput (lock+unlock)':28}{s['ops_per_s']:>11} op/s{e['ops_per_s']:>11} op/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
