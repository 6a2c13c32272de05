#!/usr/bin/env python3
"""etcd protocol benchmarks for the coming etcd store (issue 14).

    .venv/bin/python bench/etcd_proto.py [--cycles 400] [--procs 16] [--tmpfs] [--quick]

What it measures, on loopback, against real etcd members started by
tests/etcd_cluster.py (data dirs on disk unless --tmpfs):

- import cost: `python3 -I -S` importing agent_sync.core.etcd.client from a
  fresh build of the archive, then also making one request, beside the bare
  interpreter and beside `import http.client, json` (what the stock
  transport would cost), medians of runs taken turn about;
- lock-style transaction latency, p50 and p99, on 1 member and on 3:
  acquire = create-if-absent txn with a nonce (failure branch reads the key),
  release = delete; also acquire with a fresh lease (a lock with its own TTL:
  one more round trip). Baseline in the same run: the same lock as a SQLite
  BEGIN IMMEDIATE / INSERT / COMMIT on a WAL file, as the local store does;
- 16-process throughput: each process its own client and its own lock key
  (uncontended), and 16 processes racing for one key per round (contended),
  on 1 member and on 3;
- failover: 3 members, SIGKILL the leader during a 16-process race: how
  long until the race goes on, winners per round, and how many wins were
  only recognised by the nonce (the reply was lost and the call retried).

Nothing here is a test: the numbers are printed.
"""

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "etcd"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import build  # noqa: E402
from agent_sync.core.etcd import client as ec  # noqa: E402
from etcd_cluster import Cluster  # noqa: E402
from etcd_race_worker import Racers  # noqa: E402


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def ms(seconds):
    return f"{seconds * 1000:7.2f}"


# ---------------------------------------------------------------------------
# Import cost


def run_once(argv):
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def import_cost(url, runs):
    OUT.mkdir(parents=True, exist_ok=True)
    pyz = OUT / "agent-sync.pyz"
    build.write(pyz, build.archive_bytes())
    py = os.path.realpath(sys.executable)
    head = f"import sys; sys.path.insert(0, {str(pyz)!r}); "
    cases = [
        ("python3 -I -S -c pass (floor)", "pass"),
        ("import agent_sync (the package only)", head + "import agent_sync"),
        ("import agent_sync.core.etcd.client", head + "import agent_sync.core.etcd.client"),
        ("... + one put on etcd://", head + "import agent_sync.core.etcd.client as c; "
         f"c.Client.from_url({url!r}, environ={{}}).put('bench-import', 'x')"),
        ("import http.client, json (stock transport)", "import http.client, json"),
    ]
    times = {name: [] for name, _code in cases}
    for _ in range(3):
        for _name, code in cases:
            run_once([py, "-I", "-S", "-c", code])
    for _ in range(runs):
        for name, code in cases:  # turn about, so a slow phase of the machine hits every case
            times[name].append(run_once([py, "-I", "-S", "-c", code]))
    floor = statistics.median(times[cases[0][0]])
    print(f"\n## Import cost ({py}, medians of {runs} runs taken turn about)\n")
    print("| case | ms | over the floor |\n| --- | --- | --- |")
    for name, _code in cases:
        median = statistics.median(times[name])
        print(f"| {name} | {ms(median)} | {ms(median - floor)} |")


# ---------------------------------------------------------------------------
# Latency


def lock_cycles(cl, cycles, with_lease):
    """p-lists of acquire and release seconds for `cycles` lock / unlock rounds on one key."""
    key = f"bench/lock/{uuid.uuid4().hex}"
    acquire, release = [], []
    for _ in range(cycles):
        nonce = uuid.uuid4().hex
        start = time.perf_counter()
        lease = cl.lease_grant(60).id if with_lease else 0
        result = cl.txn([ec.compare(key, "create", "=", 0)], [ec.op_put(key, nonce, lease=lease)],
                        [ec.op_range(key)])
        middle = time.perf_counter()
        assert result.succeeded
        if with_lease:
            cl.lease_revoke(lease)  # deletes the key with it
        else:
            cl.delete(key)
        acquire.append(middle - start)
        release.append(time.perf_counter() - middle)
    return acquire, release


def sqlite_cycles(folder, cycles):
    """The local store's lock shape: BEGIN IMMEDIATE, check, insert, commit; then a delete."""
    conn = sqlite3.connect(os.path.join(folder, "bench.sqlite"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS locks (key TEXT PRIMARY KEY, owner TEXT, token INTEGER)")
    acquire, release = [], []
    for i in range(cycles):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        assert conn.execute("SELECT 1 FROM locks WHERE key = 'k'").fetchone() is None
        conn.execute("INSERT INTO locks VALUES ('k', 'me', ?)", (i,))
        conn.execute("COMMIT")
        middle = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM locks WHERE key = 'k'")
        conn.execute("COMMIT")
        acquire.append(middle - start)
        release.append(time.perf_counter() - middle)
    conn.close()
    return acquire, release


def cli_lock_cycles(runs):
    """Today's user-visible lock: `agent-sync lock` then `unlock`, each a fresh process on SQLite."""
    pyz = OUT / "agent-sync.pyz"
    repo = OUT / "cli-repo"
    if repo.exists():
        import shutil

        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_SYNC_", "CLAUDE_"))}
    env["AGENT_SYNC_ID"] = "bench"
    py = os.path.realpath(sys.executable)
    lock, unlock = [], []
    for i in range(runs + 2):
        took = []
        for verb in ("lock", "unlock"):
            start = time.perf_counter()
            subprocess.run([py, str(pyz), verb, "src/app.py"], cwd=repo, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            took.append(time.perf_counter() - start)
        if i >= 2:
            lock.append(took[0])
            unlock.append(took[1])
    return lock, unlock


def latency(clusters, cycles):
    print(f"\n## Lock-style transaction latency ({cycles} cycles each, one client, loopback)\n")
    print("| store | operation | p50 ms | p99 ms |\n| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as folder:
        acq, rel = sqlite_cycles(folder, cycles)
    base = statistics.median(acq)
    print(f"| SQLite WAL (baseline) | lock | {ms(base)} | {ms(pct(acq, 99))} |")
    print(f"| SQLite WAL (baseline) | unlock | {ms(statistics.median(rel))} | {ms(pct(rel, 99))} |")
    cli_lock, cli_unlock = cli_lock_cycles(max(10, cycles // 20))
    print(f"| today's CLI on SQLite, for scale | `agent-sync lock` process | {ms(statistics.median(cli_lock))} "
          f"| {ms(pct(cli_lock, 99))} |")
    print(f"| today's CLI on SQLite, for scale | `agent-sync unlock` process | {ms(statistics.median(cli_unlock))} "
          f"| {ms(pct(cli_unlock, 99))} |")
    ratios = []
    for label, cluster in clusters:
        with ec.Client.from_url(cluster.url, environ={}) as cl:
            lock_cycles(cl, 20, False)  # warm up
            acq, rel = lock_cycles(cl, cycles, False)
            lacq, lrel = lock_cycles(cl, max(50, cycles // 2), True)
        print(f"| etcd {label} | lock txn | {ms(statistics.median(acq))} | {ms(pct(acq, 99))} |")
        print(f"| etcd {label} | unlock (delete) | {ms(statistics.median(rel))} | {ms(pct(rel, 99))} |")
        print(f"| etcd {label} | lease grant + lock txn | {ms(statistics.median(lacq))} | {ms(pct(lacq, 99))} |")
        print(f"| etcd {label} | unlock (lease revoke) | {ms(statistics.median(lrel))} | {ms(pct(lrel, 99))} |")
        ratios.append(f"{label}: {statistics.median(acq) / base:.1f}x")
    print(f"\nlock p50 over the SQLite baseline: {', '.join(ratios)}")


# ---------------------------------------------------------------------------
# Throughput


def worker(url, key, cycles):
    """Child side of the uncontended throughput run: wait for go, lock/unlock `cycles` times."""
    cl = ec.Client.from_url(url)
    cl.status()  # connect before the clock starts
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    for _ in range(cycles):
        result = cl.txn([ec.compare(key, "create", "=", 0)], [ec.op_put(key, "x")], [ec.op_range(key)])
        assert result.succeeded
        cl.delete(key)
    sys.stdout.write("done\n")
    sys.stdout.flush()


def uncontended(cluster, procs, cycles):
    children = [subprocess.Popen([sys.executable, __file__, "--worker", cluster.url, f"bench/tp/{i}", str(cycles)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
                for i in range(procs)]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        start = time.perf_counter()
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            assert child.stdout.readline().strip() == "done"
        elapsed = time.perf_counter() - start
    finally:
        for child in children:
            child.stdin.close()
            child.wait()
            child.stdout.close()
    return procs * cycles / elapsed


def contended(cluster, procs, rounds):
    prefix = f"bench/race/{uuid.uuid4().hex}/"
    with Racers(cluster.url, prefix, procs) as racers:
        racers.round(-1)  # every worker connected
        start = time.perf_counter()
        for n in range(rounds):
            answers = racers.round(n)
            assert sum(a.get("won", False) for a in answers) == 1, answers
        elapsed = time.perf_counter() - start
    return rounds / elapsed, rounds * procs / elapsed


def throughput(clusters, procs, cycles, rounds):
    print(f"\n## {procs}-process throughput (each process its own client)\n")
    print("| store | uncontended lock+unlock cycles/s | contended rounds/s (txns/s), 1 winner each |")
    print("| --- | --- | --- |")
    for label, cluster in clusters:
        cycles_per_s = uncontended(cluster, procs, cycles)
        rounds_per_s, txns_per_s = contended(cluster, procs, rounds)
        print(f"| etcd {label} | {cycles_per_s:7.0f} | {rounds_per_s:5.0f} ({txns_per_s:.0f}) |")


# ---------------------------------------------------------------------------
# Failover


def failover(procs, repeats, on_disk):
    print(f"\n## Failover: SIGKILL the leader of 3 members during a {procs}-process race ({repeats} times)\n")
    print("| run | slowest round after the kill, s | rounds | rounds with exactly 1 winner | wins seen only by nonce |")
    print("| --- | --- | --- | --- | --- |")
    for run in range(repeats):
        with Cluster(3, on_disk=on_disk) as cluster:
            prefix = f"bench/failover/{uuid.uuid4().hex}/"
            with Racers(cluster.url, prefix, procs) as racers:
                racers.round(-1)
                rounds, single, by_nonce, stall = 0, 0, 0, 0.0
                for n in range(30):
                    leader = cluster.leader() if n == 10 else None  # found first, so the kill lands mid-round
                    racers.start_round(n)
                    began = time.perf_counter()
                    if leader is not None:
                        leader.kill()
                    answers = racers.finish_round()
                    if 10 <= n <= 12:
                        stall = max(stall, time.perf_counter() - began)
                    rounds += 1
                    single += sum(a.get("won", False) for a in answers) == 1
                    by_nonce += sum(a.get("by_nonce", False) for a in answers)
            print(f"| {run + 1} | {stall:5.2f} | {rounds} | {single} | {by_nonce} |")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=400, help="lock cycles per latency case")
    parser.add_argument("--procs", type=int, default=16)
    parser.add_argument("--runs", type=int, default=30, help="runs per import-cost case")
    parser.add_argument("--tmpfs", action="store_true", help="member data dirs on tmpfs (no fsync cost)")
    parser.add_argument("--quick", action="store_true", help="fewer cycles and runs")
    args = parser.parse_args()
    if args.quick:
        args.cycles, args.runs = 100, 10
    on_disk = not args.tmpfs
    print(f"# etcd protocol bench: {ec.__name__}, etcd data dirs {'on disk' if on_disk else 'on tmpfs'}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with Cluster(1, on_disk=on_disk) as one, Cluster(3, on_disk=on_disk) as three:
        print(f"\ncluster start: 1 member {one.started_in:.2f} s, 3 members {three.started_in:.2f} s")
        clusters = [("1 member", one), ("3 members", three)]
        import_cost(one.url, args.runs)
        latency(clusters, args.cycles)
        throughput(clusters, args.procs, max(20, args.cycles // 8), max(20, args.cycles // 8))
    failover(args.procs, 1 if args.quick else 3, on_disk)


if __name__ == "__main__":
    main()
