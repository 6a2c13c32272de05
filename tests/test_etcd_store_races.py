"""Real processes racing through the etcd store: locks and claim-next, with and without a leader kill.

16 worker processes (store_race_worker.py), each its own agent with its own
client, get the same command at once. A lock round must have exactly one
winner and a higher token than the round before; claim-next must hand out
every task exactly once. With three members, the leader is SIGKILLed while a
round is in flight: the rules must still hold, and every acknowledged grant
must still be there afterwards. `make test-etcd` runs this module.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from etcd_cluster import Cluster
from store_harness import context, new_namespace

WORKER = Path(__file__).resolve().parent / "store_race_worker.py"
RACERS = 16


class Racers:
    def __init__(self, url, namespace, root, count=RACERS):
        self.procs = [subprocess.Popen([sys.executable, str(WORKER), url, namespace, str(root), f"racer-{i:02d}"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                      for i in range(count)]
        for proc in self.procs:
            ready = json.loads(proc.stdout.readline())
            assert "ready" in ready, ready

    def send(self, line):
        for proc in self.procs:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()

    def answers(self):
        return [json.loads(proc.stdout.readline()) for proc in self.procs]

    def close(self):
        for proc in self.procs:
            proc.stdin.close()
        for proc in self.procs:
            proc.wait(30)


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def lock_rounds(racers, rounds, during=None):
    """Run the rounds; returns [(winner answer, seconds)] and calls during(n) right after sending round n."""
    results = []
    for n in range(rounds):
        started = time.monotonic()
        racers.send(f"lock {n}")
        if during is not None:
            during(n)
        answers = racers.answers()
        errors = [a for a in answers if "error" in a]
        winners = [a for a in answers if a.get("won")]
        assert not errors, errors
        assert len(winners) == 1, (n, answers)
        results.append((winners[0], time.monotonic() - started))
    return results


def check_tokens_and_survival(url, namespace, root, results):
    tokens = [w["token"] for w, _s in results]
    assert tokens == sorted(tokens) and len(set(tokens)) == len(tokens), tokens
    observer = context(root, "observer", url, namespace)
    held = {row["path"]: row["token"] for row in observer.store.locks()}
    observer.close()
    assert held == {f"race/round-{n}.txt": w["token"] for n, (w, _s) in enumerate(results)}


def claim_race(racers, url, namespace, root, tasks, during=None):
    boss = context(root, "boss", url, namespace)
    made = [boss.store.create_task(f"task {i}", priority=i % 3)["id"] for i in range(tasks)]
    racers.send("claim")
    if during is not None:
        during()
    answers = racers.answers()
    claimed = [tid for a in answers for tid in a["claimed"]]
    assert not [a for a in answers if a["errors"]], answers
    assert sorted(claimed) == sorted(made)  # every task once: none twice, none lost
    owners = {t["id"]: t["owner"] for t in boss.store.tasks()}
    for i, answer in enumerate(answers):
        assert all(owners[tid] == f"racer-{i:02d}" for tid in answer["claimed"])
    boss.close()


def test_sixteen_processes_race_for_one_lock_fifty_times(repo):
    with Cluster(1) as cluster:
        namespace = new_namespace()
        racers = Racers(cluster.url, namespace, repo)
        try:
            results = lock_rounds(racers, 50)
        finally:
            racers.close()
        check_tokens_and_survival(cluster.url, namespace, repo, results)


def test_claim_next_from_sixteen_processes_hands_out_distinct_tasks(repo):
    with Cluster(1) as cluster:
        namespace = new_namespace()
        racers = Racers(cluster.url, namespace, repo)
        try:
            claim_race(racers, cluster.url, namespace, repo, 48)
        finally:
            racers.close()


def test_leader_killed_during_a_lock_race(repo):
    with Cluster(3) as cluster:
        namespace = new_namespace()
        racers = Racers(cluster.url, namespace, repo)
        killed, leader = [], []

        def kill(n):
            if n == 14:
                leader.append(cluster.leader())  # found ahead, so the kill lands while round 15 is in flight
            if n == 15:
                leader[0].kill()
                killed.append(leader[0])

        try:
            results = lock_rounds(racers, 40, during=kill)
        finally:
            racers.close()
        assert killed
        stall = results[15][1]
        print(f"\nround with the leader killed took {stall:.2f}s; others p50 "
              f"{sorted(s for _w, s in results)[len(results) // 2] * 1000:.0f} ms")
        check_tokens_and_survival(cluster.url, namespace, repo, results)


def test_leader_killed_during_a_claim_race(repo):
    with Cluster(3) as cluster:
        namespace = new_namespace()
        racers = Racers(cluster.url, namespace, repo)
        started = time.monotonic()
        try:
            claim_race(racers, cluster.url, namespace, repo, 64,
                       during=lambda: (time.sleep(0.15), cluster.kill_leader()))
        finally:
            racers.close()
        print(f"\n64 tasks claimed by 16 processes, leader killed at 0.15 s: {time.monotonic() - started:.2f}s")
