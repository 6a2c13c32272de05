"""Races between real processes on one database: locks, task claims and messages.

Each child process imports the built artifact (dist/agent-sync.pyz) first,
says it is ready, and then waits for a shared "go" file, so the contenders
hit the database together rather than staggered by interpreter start-up.
"""

import json
import re
import shutil
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import PYZ, clean_env

CHILD = textwrap.dedent("""
    import json, os, sys, time, traceback
    pyz, ready, go, commands = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    sys.path.insert(0, pyz)
    import agent_sync.__main__ as entry
    from agent_sync.cli import main as cli, handlers as _c
    from agent_sync.core import context, db, locks, tasks, messages, agents  # warm up
    open(ready, "w").close()
    deadline = time.time() + 60
    while not os.path.exists(go):
        if time.time() > deadline:
            sys.exit(99)
        time.sleep(0.002)
    codes = []
    for argv in commands:
        sys.argv = ["agent-sync", *argv]
        try:
            codes.append(entry._dispatch(argv))
        except SystemExit as exc:
            codes.append(exc.code)
        except Exception:
            traceback.print_exc()
            codes.append(1)
        sys.stdout.flush()
    sys.exit(next((c for c in codes if c), 0))
""")

BAD_STDERR = ("database is locked", "Traceback", "internal error")


@pytest.fixture
def race(repo, tmp_path):
    """race([(agent, [argv, ...]), ...]) -> [(code, stdout, stderr)], all started on one signal."""
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    # A private copy: a rebuild of dist/ while children run must not swap the zip under them.
    pyz = tmp_path / "agent-sync.pyz"
    shutil.copyfile(PYZ, pyz)
    counter = [0]

    def run(jobs, timeout=120):
        counter[0] += 1
        sync = tmp_path / f"sync-{counter[0]}"
        sync.mkdir()
        go = sync / "go"
        procs = []
        for i, (agent, commands) in enumerate(jobs):
            procs.append(subprocess.Popen(
                [sys.executable, str(child), str(pyz), str(sync / f"ready-{i}"), str(go), json.dumps(commands)],
                cwd=str(repo.path), env=clean_env(repo.home, AGENT_SYNC_ID=agent),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        deadline = time.time() + 60
        while len(list(sync.glob("ready-*"))) < len(jobs):
            assert time.time() < deadline, "children never became ready"
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
            time.sleep(0.01)
        go.touch()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=timeout)
            results.append((p.returncode, out.decode(), err.decode()))
        for code, _out, err in results:
            assert not any(bad in err for bad in BAD_STDERR), err
            assert code != 99, "a child timed out waiting for the go signal"
        return results

    return run


def test_lock_race_one_winner_per_round(repo, race):
    procs, rounds = 16, 5
    agents = [f"racer-{i:02d}" for i in range(procs)]
    for agent in agents:  # check in once so every round races only on the lock
        repo.ok("heartbeat", agent=agent)
    winners, tokens = [], []
    for _ in range(rounds):
        results = race([(agent, [["lock", "hot.py"]]) for agent in agents])
        codes = [code for code, _, _ in results]
        won = [agents[i] for i, code in enumerate(codes) if code == 0]
        assert sorted(set(codes)) == [0, 3], codes
        assert codes.count(0) == 1 and codes.count(3) == procs - 1, codes
        winners.append(len(won))
        (lock,) = repo.json("locks", agent="observer")["locks"]
        assert lock["owner"] == won[0]
        tokens.append(lock["token"])
        repo.ok("unlock", "hot.py", agent=won[0])
    assert tokens == sorted(tokens) and len(set(tokens)) == rounds, tokens
    print(f"lock race: {rounds} rounds x {procs} procs, winners per round {winners}, tokens {tokens}")


def test_claim_next_race_distinct_tasks(repo, race):
    tasks, procs = 10, 14
    for n in range(tasks):
        repo.ok("create-task", f"task {n}", "--priority", str(n % 3), agent="boss")
    agents = [f"worker-{i:02d}" for i in range(procs)]
    results = race([(agent, [["claim-next"]]) for agent in agents])
    codes = [code for code, _, _ in results]
    claimed = {}
    for agent, (code, out, _err) in zip(agents, results):
        if code == 0:
            claimed[agent] = int(re.search(r"claimed #(\d+)", out).group(1))
    assert codes.count(0) == tasks and codes.count(4) == procs - tasks, codes
    assert len(set(claimed.values())) == tasks, claimed
    board = repo.json("tasks", agent="observer")["tasks"]
    assert {t["status"] for t in board} == {"in_progress"}
    owners = {t["id"]: t["owner"] for t in board}
    assert len(set(owners.values())) == tasks
    assert owners == {task_id: agent for agent, task_id in claimed.items()}
    print(f"claim-next race: {procs} procs on {tasks} tasks, {codes.count(0)} claimed "
          f"{len(set(claimed.values()))} distinct, {codes.count(4)} found nothing")


def test_message_race_each_delivered_once(repo, race):
    senders, per_sender = 12, 10
    repo.ok("register", "--name", "mailbox", agent="rcpt")
    agents = [f"sender-{i:02d}" for i in range(senders)]
    jobs = [(agent, [["send", "--to", "mailbox", "--message", f"{agent} #{j}"] for j in range(per_sender)])
            for agent in agents]
    results = race(jobs)
    assert [code for code, _, _ in results] == [0] * senders, results
    messages = repo.json("inbox", "--mark-read", agent="rcpt")["messages"]
    bodies = [m["body"] for m in messages]
    expected = {f"{agent} #{j}" for agent in agents for j in range(per_sender)}
    assert len(bodies) == senders * per_sender and set(bodies) == expected
    assert len({m["id"] for m in messages}) == len(messages)
    for agent in agents:  # each sender's messages arrive in the order it sent them
        mine = [b for b in bodies if b.startswith(agent + " ")]
        assert mine == [f"{agent} #{j}" for j in range(per_sender)]
    assert repo.json("inbox", agent="rcpt")["messages"] == []
    print(f"message race: {senders} senders x {per_sender} messages, {len(bodies)} delivered, "
          f"{len(set(bodies))} distinct, second inbox empty")
