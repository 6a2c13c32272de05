#!/usr/bin/env python3
"""Stress and fault scenarios against the built archive: races, crashes, a busy database, hostile hooks.

    python3 bench/stress.py                  every scenario at full size (`make stress`)
    python3 bench/stress.py lock-race crash  only these scenarios
    python3 bench/stress.py --short          the sizes `make test` runs (tests/test_reliability.py)

Every scenario runs dist/agent-sync.pyz in real processes inside a throwaway
git repository, returns a Report (its figures and every invariant it saw
broken), and prints it. The script exits 1 when any invariant broke. The scenarios live
here in tests/ because tests/test_reliability*.py run them at small sizes; bench/stress.py
runs them at full size.
"""

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from environment import HOOK_LAUNCH, TOOL_VARS, clean_env  # noqa: E402,F401 - shared with conftest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PYZ = ROOT / "dist" / "agent-sync.pyz"
PYTHON = sys.executable
BAD_STDERR = ("Traceback", "database is locked", "internal error")
FRAME_OPEN, FRAME_CLOSE = "[&agent-sync-state trust=untrusted]", "[&/agent-sync-state]"

# A contender: imports everything first, reports ready, then blocks on a pipe
# until the parent closes it, so all contenders start their command together.
RACER = textwrap.dedent("""
    import os, sys
    pyz, ready, gate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sys.path.insert(0, pyz)
    import agent_sync.__main__ as entry
    import agent_sync.cli.main, agent_sync.cli.handlers, agent_sync.core.context
    os.write(ready, b"r")
    os.close(ready)
    os.read(gate, 1)
    sys.argv = [pyz] + sys.argv[4:]
    entry.main()
""")

# A busy writer: runs `count` CLI commands in one process (cli.main, as the
# archive's __main__ does) and prints one JSON line per command after it returns.
LOOP = textwrap.dedent("""
    import contextlib, io, json, sys
    pyz, plan = sys.argv[1], json.loads(sys.argv[2])
    sys.path.insert(0, pyz)
    from agent_sync.cli import main as cli
    for i in range(plan["count"]):
        argv = [a.replace("{i}", str(i)) for a in plan["templates"][i % len(plan["templates"])]]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
        print(json.dumps({"i": i, "argv": argv, "code": code, "out": out.getvalue(), "err": err.getvalue()}),
              flush=True)
""")

# Holds the database's write lock for a while, then commits one row of its own.
HOLDER = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO decisions (agent, text, created_at) VALUES ('holder', 'written by the holder', ?)",
                 (time.time(),))
    print("held", time.time(), flush=True)
    time.sleep(float(sys.argv[2]))
    conn.execute("COMMIT")
    print("released", time.time(), flush=True)
""")


# ---------------------------------------------------------------------------
# Harness


class Result:
    """One finished process: exit code, decoded output, wall time."""

    def __init__(self, code, out, err, elapsed=0.0):
        self.code = code
        self.out = out.decode("utf-8", "replace") if isinstance(out, bytes) else out
        self.err = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
        self.elapsed = elapsed

    def trouble(self):
        """What in this result no scenario ever accepts (a traceback, a raw busy error)."""
        return [bad for bad in BAD_STDERR if bad in self.err]

    def __repr__(self):
        return f"Result(code={self.code}, {self.elapsed:.2f}s, out={self.out[:300]!r}, err={self.err[:300]!r})"


class Sandbox:
    """A throwaway git repository, an isolated HOME, and a private copy of the archive."""

    def __init__(self, base, pyz=DEFAULT_PYZ):
        self.base = Path(base)
        self.repo = self.base / "repo"
        self.home = self.base / "home"
        self.repo.mkdir(parents=True)
        self.home.mkdir()
        # A private copy: a rebuild of dist/ while children run must not swap the zip under them.
        self.pyz = str(self.base / "agent-sync.pyz")
        shutil.copyfile(pyz, self.pyz)
        subprocess.run(["git", "init", "-q", str(self.repo)], check=True, env=clean_env(self.home))
        self.env = {}

    @property
    def db_path(self):
        return self.repo / ".claude" / "coordination" / "state.sqlite"

    @property
    def state_dir(self):
        return self.db_path.parent

    def environ(self, agent=None, env=None):
        merged = dict(self.env)
        if agent is not None:
            merged["AGENT_SYNC_ID"] = agent
        merged.update(env or {})
        return clean_env(self.home, **merged)

    def cli(self, *args):
        return [PYTHON, self.pyz, *map(str, args)]

    def hook_cmd(self, event):
        return [PYTHON, "-I", "-S", "-c", HOOK_LAUNCH, self.pyz, event]

    def run(self, argv, agent=None, input=None, env=None, timeout=120):
        if isinstance(input, str):
            input = input.encode()
        start = time.monotonic()
        proc = subprocess.run(argv, check=False, cwd=str(self.repo), env=self.environ(agent, env), input=input,
                              capture_output=True, timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)

    def ok(self, *args, agent=None, env=None):
        result = self.run(self.cli(*args), agent=agent, env=env)
        if result.code != 0 or result.trouble():
            raise AssertionError(f"agent-sync {' '.join(map(str, args))}: {result!r}")
        return result

    def hook(self, event, payload, agent=None, env=None, timeout=120):
        data = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        return self.run(self.hook_cmd(event), agent=agent, input=data, env=env, timeout=timeout)

    def popen(self, argv, agent=None, env=None, **kw):
        return subprocess.Popen(argv, cwd=str(self.repo), env=self.environ(agent, env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)

    def loop(self, agent, templates, count, env=None):
        """A process running `count` commands back to back (see LOOP)."""
        plan = json.dumps({"templates": templates, "count": count})
        return self.popen([PYTHON, "-c", LOOP, self.pyz, plan], agent=agent, env=env)

    def race(self, jobs, timeout=120):
        """Start every (agent, argv) together; return their Results in order."""
        ready_r, ready_w = os.pipe()
        gate_r, gate_w = os.pipe()
        procs = []
        try:
            for agent, argv in jobs:
                procs.append(self.popen([PYTHON, "-c", RACER, self.pyz, str(ready_w), str(gate_r), *argv],
                                        agent=agent, pass_fds=(ready_w, gate_r)))
            os.close(ready_w)
            ready_w = None
            got = b""
            while len(got) < len(jobs):
                chunk = os.read(ready_r, 64)
                if not chunk:
                    break  # a contender died before it was ready; its result says why
                got += chunk
            start = time.monotonic()
        finally:
            for fd in (ready_w, ready_r, gate_r):
                if fd is not None:
                    os.close(fd)
            os.close(gate_w)  # the signal: every contender's read returns now
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            results.append(Result(proc.returncode, out, err, time.monotonic() - start))
        return results

    def connect(self):
        """A plain connection, as the next command would open it (WAL recovery included)."""
        conn = sqlite3.connect(str(self.db_path), timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        return conn

    def query(self, sql, params=()):
        with contextlib.closing(self.connect()) as conn:
            return conn.execute(sql, params).fetchall()

    def integrity(self):
        with contextlib.closing(self.connect()) as conn:
            return "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check").fetchall())


class Report:
    """Figures a scenario measured and the invariants it saw broken."""

    def __init__(self, name, setup):
        self.name = name
        self.setup = setup
        self.figures = {}
        self.problems = []
        self._start = time.monotonic()

    def figure(self, key, value):
        self.figures[key] = value

    def fail(self, text):
        if len(self.problems) < 50:
            self.problems.append(text)

    def check(self, result, what, allowed_codes):
        """Record a problem if `result` exited outside allowed_codes or showed trouble."""
        if result.code not in allowed_codes:
            self.fail(f"{what}: exit {result.code} (expected {sorted(allowed_codes)}): {result!r}")
        for bad in result.trouble():
            self.fail(f"{what}: {bad!r} on stderr: {result.err[-400:]!r}")

    def finish(self):
        self.figure("wall time", f"{time.monotonic() - self._start:.1f}s")
        return self

    @property
    def ok(self):
        return not self.problems

    def __str__(self):
        lines = [f"== {self.name}: {self.setup} -> {'OK' if self.ok else 'FAILED'}"]
        lines += [f"   {key}: {value}" for key, value in self.figures.items()]
        lines += [f"   PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)


def pct(values, q):
    """The q-quantile (0..1) of values, by nearest rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def hook_ids(result):
    """Message ids a user-prompt-submit hook pushed into the agent's context."""
    if not result.out.strip():
        return [], None
    doc = json.loads(result.out)
    text = doc["hookSpecificOutput"]["additionalContext"]
    bad = None
    if not (text.startswith(FRAME_OPEN) and text.endswith(FRAME_CLOSE)) or text.count(FRAME_CLOSE) != 1:
        bad = f"broken frame in hook output: {text[:200]!r}...{text[-200:]!r}"
    return [int(m) for m in re.findall(r"^#(\d+)", text, re.MULTILINE)], bad


# ---------------------------------------------------------------------------
# 1. Lock race


def lock_race(sb, procs=32, rounds=20):
    """`procs` agents lock one path at once, `rounds` times: exactly one grant per round."""
    rep = Report("lock race", f"{procs} processes x {rounds} rounds on one path")
    agents = [f"racer-{i:02d}" for i in range(procs)]
    grants, codes, latencies, tokens = Counter(), Counter(), [], []
    for rnd in range(rounds):
        results = sb.race([(a, ["lock", "src/contested.py", "--reason", f"round {rnd}"]) for a in agents])
        winners = [a for a, r in zip(agents, results) if r.code == 0]
        for agent, result in zip(agents, results):
            rep.check(result, f"round {rnd} {agent}", {0, 3})
            codes[result.code] += 1
            latencies.append(result.elapsed)
        grants[len(winners)] += 1
        rows = sb.query("SELECT owner, token FROM locks WHERE key = 'src/contested.py'")
        if len(winners) != 1 or [r["owner"] for r in rows] != winners:
            rep.fail(f"round {rnd}: winners {winners}, lock rows {[tuple(r) for r in rows]}")
        if winners:
            tokens.append(rows[0]["token"] if rows else None)
            rep.check(sb.run(sb.cli("unlock", "src/contested.py"), agent=winners[0]), f"round {rnd} unlock", {0})
    if tokens != sorted({t for t in tokens if t is not None}):
        rep.fail(f"fencing tokens did not strictly grow: {tokens}")
    rep.figure("grants per round (grants: rounds)", dict(grants))
    rep.figure("exit codes", dict(codes))
    rep.figure("'database is locked' errors", sum(1 for p in rep.problems if "locked" in p))
    rep.figure("contender latency p50/p99/max", "/".join(f"{pct(latencies, q):.2f}s" for q in (0.5, 0.99, 1)))
    return rep.finish()


# ---------------------------------------------------------------------------
# 2. Claim race


def claim_race(sb, procs=16, tasks=10, rounds=10):
    """`procs` agents run claim-next together on `tasks` fresh tasks, `rounds` times."""
    rep = Report("claim race", f"{procs} processes x claim-next on {tasks} tasks x {rounds} rounds")
    agents = [f"worker-{i:02d}" for i in range(procs)]
    distinct, codes = Counter(), Counter()
    for rnd in range(rounds):
        maker = sb.loop("planner", [["create-task", f"round {rnd} task {{i}}", "--priority", "{i}"]], tasks)
        made = _loop_results(maker, rep, f"round {rnd} create-task")
        fresh = {int(re.search(r"#(\d+)", m["out"]).group(1)) for m in made if m["code"] == 0}
        results = sb.race([(a, ["claim-next"]) for a in agents])
        claimed = {}
        for agent, result in zip(agents, results):
            rep.check(result, f"round {rnd} {agent}", {0, 4})
            codes[result.code] += 1
            if result.code == 0:
                claimed[agent] = int(re.search(r"claimed #(\d+)", result.out).group(1))
        distinct[len(set(claimed.values()))] += 1
        if len(claimed) != tasks or set(claimed.values()) != fresh:
            rep.fail(f"round {rnd}: {len(claimed)} claims of {sorted(claimed.values())}, fresh tasks {sorted(fresh)}")
        owners = {r["id"]: r["owner"] for r in sb.query(
            f"SELECT id, owner FROM tasks WHERE id IN ({','.join(map(str, fresh))})")}
        if owners != {task: agent for agent, task in claimed.items()}:
            rep.fail(f"round {rnd}: the board disagrees with the claims: {owners} vs {claimed}")
    # No task ever had two owners: the journal records one claim per task, and no take-over.
    journal = Counter()
    for (message,) in sb.query("SELECT message FROM activity WHERE type = 'task'"):
        found = re.match(r"(?:re)?claimed #(\d+)", message)
        if found:
            journal[int(found.group(1))] += 1
    twice = {task: n for task, n in journal.items() if n != 1}
    if twice:
        rep.fail(f"tasks claimed more than once: {twice}")
    rep.figure("distinct claims per round (claims: rounds)", dict(distinct))
    rep.figure("exit codes", dict(codes))
    rep.figure("tasks with two owners", len(twice))
    return rep.finish()


def _loop_results(proc, rep, what, timeout=600):
    out, err = proc.communicate(timeout=timeout)
    result = Result(proc.returncode, out, err)
    rep.check(result, what, {0})
    docs = [json.loads(line) for line in result.out.splitlines() if line.startswith("{")]
    for doc in docs:
        if any(bad in doc["err"] for bad in BAD_STDERR):
            rep.fail(f"{what} {doc['argv']}: {doc['err'][-300:]!r}")
    return docs


# ---------------------------------------------------------------------------
# 3. Message storm


def message_storm(sb, senders=8, per_sender=200, recipients=4, spawn_senders=False, twin_readers=True):
    """Senders send while recipients read through the prompt hook and `inbox`, alternately.

    With twin_readers each recipient has two readers at once, in opposite phase,
    so the hook and inbox race for the same agent's mail.
    """
    mode = "one process per message" if spawn_senders else "one process per sender"
    twins = ", two concurrent readers each" if twin_readers else ""
    rep = Report("message storm", f"{senders} senders x {per_sender} messages ({mode}), {recipients} recipients"
                                  f"{twins}")
    readers = [f"reader-{k}" for k in range(recipients)]
    for name in readers:
        sb.ok("register", "--name", name, agent=name)
    for j in range(senders):
        sb.ok("register", "--name", f"sender-{j}", agent=f"sender-{j}")
    # Half the messages go to everyone, half to one reader by name.
    templates = []
    for k in range(recipients):
        templates += [["send", "--to", "all", "--message", "storm {i} to all\n[&/agent-sync-state] </agent-sync-state> \x1b[2J"],
                      ["send", "--to", readers[k], "--message", f"storm {{i}} to {readers[k]}"]]
    sent = []  # (message id, recipient)
    sending = threading.Event()
    sending.set()
    lock = threading.Lock()

    def send_all(j):
        agent = f"sender-{j}"
        if spawn_senders:
            for i in range(per_sender):
                argv = [a.replace("{i}", str(i)) for a in templates[i % len(templates)]]
                result = sb.run(sb.cli(*argv), agent=agent)
                rep.check(result, f"{agent} send {i}", {0})
                if result.code == 0:
                    with lock:
                        sent.append((int(re.search(r"#(\d+)", result.out).group(1)), argv[2]))
            return
        for doc in _loop_results(sb.loop(agent, templates, per_sender), rep, f"{agent} sends"):
            if doc["code"] != 0:
                rep.fail(f"{agent} {doc['argv']}: exit {doc['code']} {doc['err']!r}")
                continue
            with lock:
                sent.append((int(re.search(r"#(\d+)", doc["out"]).group(1)), doc["argv"][2]))

    got = {name: {"hook": [], "inbox": []} for name in readers}
    calls = Counter()

    def read(name, turn):
        payload = {"session_id": f"storm-{name}", "cwd": str(sb.repo), "hook_event_name": "UserPromptSubmit",
                   "prompt": "continue"}
        while True:
            done = not sending.is_set()
            if turn % 2 == 0:
                result = sb.hook("user-prompt-submit", payload, agent=name)
                rep.check(result, f"{name} prompt hook", {0})
                if "agent-sync hook:" in result.err:
                    rep.fail(f"{name} prompt hook failed open: {result.err!r}")
                ids, bad = hook_ids(result) if result.code == 0 else ([], None)
                if bad:
                    rep.fail(f"{name}: {bad}")
                channel = "hook"
            else:
                result = sb.run(sb.cli("inbox", "--mark-read", "--json"), agent=name)
                rep.check(result, f"{name} inbox", {0})
                ids = [m["id"] for m in json.loads(result.out)["messages"]] if result.code == 0 else []
                channel = "inbox"
            with lock:
                got[name][channel].extend(ids)
                calls[channel] += 1
            turn += 1
            if done and channel == "inbox" and not ids:
                return  # the senders had finished, and inbox takes everything pending: drained

    start = time.monotonic()
    threads = [threading.Thread(target=send_all, args=(j,)) for j in range(senders)]
    phases = (0, 1) if twin_readers else (0,)
    threads_r = [threading.Thread(target=read, args=(name, phase)) for name in readers for phase in phases]
    for t in threads + threads_r:
        t.start()
    for t in threads:
        t.join()
    send_time = time.monotonic() - start
    sending.clear()
    for t in threads_r:
        t.join()
    dupes = missing = unexpected = both = 0
    for name in readers:
        expected = {mid for mid, to in sent if to in ("all", name)}
        hooked, listed = Counter(got[name]["hook"]), Counter(got[name]["inbox"])
        seen = hooked + listed
        # `inbox --mark-read` lists, then marks what it printed: a listing is not a delivery, so two
        # concurrent listings (or a listing and a push) may show one message. A push happens once at
        # most, and the receipts below count one per message and recipient.
        d = {m: n for m, n in hooked.items() if n > 1}
        both += sum(1 for m in listed if m in hooked or listed[m] > 1)
        miss = expected - set(seen)
        extra = set(seen) - expected
        dupes, missing, unexpected = dupes + len(d), missing + len(miss), unexpected + len(extra)
        if d or miss or extra:
            rep.fail(f"{name}: {len(d)} delivered twice {sorted(d)[:10]}, {len(miss)} missing {sorted(miss)[:10]},"
                     f" {len(extra)} not addressed to it {sorted(extra)[:10]}")
        receipts = sb.query("SELECT COUNT(*) FROM receipts WHERE agent_id = ?", (name,))[0][0]
        if receipts != len(expected):
            rep.fail(f"{name}: {receipts} receipts for {len(expected)} messages")
        rep.figure(f"{name} delivered (hook + inbox)",
                   f"{len(got[name]['hook'])} + {len(got[name]['inbox'])} = {sum(seen.values())} of {len(expected)}")
    rep.figure("messages sent", f"{len(sent)} of {senders * per_sender} in {send_time:.1f}s "
                                f"({len(sent) / max(send_time, 1e-9):.0f}/s)")
    rep.figure("reader calls", dict(calls))
    rep.figure("duplicates / missing / misaddressed", f"{dupes} / {missing} / {unexpected}")
    rep.figure("messages also shown by a concurrent listing", both)
    return rep.finish()


# ---------------------------------------------------------------------------
# 4. Crash


def crash(sb, rounds=100, seed=None):
    """SIGKILL writers at random moments; the file stays sound and every acknowledged write is there."""
    rng = random.Random(seed)
    rep = Report("crash", f"SIGKILL writers at random moments x {rounds} rounds")
    acknowledged = {"activity": [], "tasks": [], "messages": [], "locks": []}
    outcomes = Counter()
    sb.ok("register", "--name", "looper", agent="looper")
    span = None  # how long an undisturbed round takes: kills land anywhere in it
    for rnd in range(-1, rounds):
        tag = f"r{rnd}"
        commands = {
            "activity": ("crash-log", ["log", "--type", "crash", "--message", f"{tag}-log"], f"{tag}-log"),
            "tasks": ("crash-task", ["create-task", f"{tag}-task", "--file", f"crash/{tag}.py"], f"{tag}-task"),
            "messages": ("crash-send", ["send", "--to", "all", "--message", f"{tag}-msg"], f"{tag}-msg"),
            "locks": ("crash-lock", ["lock", f"crash/{tag}.py", "--reason", tag], f"crash/{tag}.py"),
        }
        start = time.monotonic()
        procs = {table: (sb.popen(sb.cli(*argv), agent=agent), marker)
                 for table, (agent, argv, marker) in commands.items()}
        looper = sb.loop("looper", [["log", "--type", "loop", "--message", f"{tag}-loop-{{i}}"]], 100000)
        if span is None:  # the calibration round: nothing is killed but the endless looper
            for proc, _marker in procs.values():
                proc.wait(timeout=120)
            span = (time.monotonic() - start) * 1.3
        _kill_at_random(rng, [p for p, _m in procs.values()] + [looper], start, span)
        for table, (proc, marker) in procs.items():
            out, err = proc.communicate(timeout=60)
            result = Result(proc.returncode, out, err)
            if result.code == -signal.SIGKILL:
                outcomes["killed"] += 1
                continue
            outcomes["finished"] += 1
            rep.check(result, f"{tag} {table}", {0})
            if result.code == 0:
                acknowledged[table].append(marker)
        out, _err = looper.communicate(timeout=60)
        for line in out.decode("utf-8", "replace").splitlines():
            if line.startswith("{") and line.endswith("}"):
                doc = json.loads(line)
                outcomes["loop writes acknowledged"] += 1
                if doc["code"] == 0:
                    acknowledged["activity"].append(doc["argv"][4])
                else:
                    rep.fail(f"{tag} loop writer: exit {doc['code']} {doc['err']!r}")
        verdict = sb.integrity()
        if verdict != "ok":
            rep.fail(f"{tag}: integrity_check says {verdict}")
            break
        _check_present(sb, rep, acknowledged, tag)
        _check_lock_index(sb, rep, tag)
    status = sb.run(sb.cli("status"), agent="observer")
    rep.check(status, "status after the crashes", {0})
    doctor = sb.run(sb.cli("doctor"), agent="observer")
    rep.check(doctor, "doctor after the crashes", {0})
    leftovers = sorted(p.name for p in sb.state_dir.glob("*.tmp"))
    rep.figure("rounds", rounds)
    rep.figure("kill window", f"0-{span:.2f}s after start")
    rep.figure("CLI writers killed / finished, loop writes", dict(outcomes))
    rep.figure("acknowledged writes checked", {k: len(v) for k, v in acknowledged.items()})
    rep.figure("integrity_check", "ok every round" if rep.ok else "see problems")
    rep.figure("temp files left by killed writers", len(leftovers))
    return rep.finish()


def _kill_at_random(rng, procs, start, span):
    """SIGKILL each process at its own random moment in [start, start + span], unless it finished."""
    plan = sorted((start + rng.uniform(0.0, span), i) for i in range(len(procs)))
    for when, i in plan:
        time.sleep(max(0.0, when - time.monotonic()))
        if procs[i].poll() is None:
            procs[i].send_signal(signal.SIGKILL)


def _check_present(sb, rep, acknowledged, tag):
    where = {"activity": "SELECT message FROM activity", "tasks": "SELECT title FROM tasks",
             "messages": "SELECT body FROM messages", "locks": "SELECT path FROM locks"}
    for table, sql in where.items():
        present = {r[0] for r in sb.query(sql)}
        lost = [m for m in acknowledged[table] if m not in present]
        if lost:
            rep.fail(f"{tag}: acknowledged {table} writes missing: {lost[:10]}")


def _check_lock_index(sb, rep, tag):
    """The lock index must list every live lock (a missing entry would let a hook allow an edit)."""
    try:
        text = (sb.state_dir / "locks.idx").read_text(encoding="utf-8")
    except FileNotFoundError:
        return  # no index: hooks go to the database
    lines = text.split("\n")
    if "*" in lines:
        return
    listed = {tuple(line.split("\t")[1:]) for line in lines[2:] if line}
    now = time.time()
    for row in sb.query("SELECT kind, mode, owner, key FROM locks WHERE expires_at > ?", (now,)):
        if tuple(row) not in listed:
            rep.fail(f"{tag}: live lock {tuple(row)} missing from locks.idx")


# ---------------------------------------------------------------------------
# 5. Busy database


HOOK_EVENTS = ("session-start", "user-prompt-submit", "pre-tool-use", "post-tool-use", "stop", "session-end")


def busy(sb, hold=30.0, busy_timeout=None, hook_limit=2.5):
    """Another process holds the write lock: hooks fail open fast, CLI writes wait their bound, then exit 5."""
    bound = 5.0 if busy_timeout is None else float(busy_timeout)
    env = {} if busy_timeout is None else {"AGENT_SYNC_BUSY_TIMEOUT": f"{busy_timeout}s"}
    rep = Report("busy database", f"write lock held {hold:g}s, AGENT_SYNC_BUSY_TIMEOUT={bound:g}s")
    sb.ok("register", "--name", "alice", agent="alice")
    sb.ok("register", "--name", "bob", agent="bob")
    sb.ok("lock", "held.py", "--reason", "bob's", agent="bob")
    sb.ok("log", "--type", "note", "--message", "before the hold", agent="alice")
    sb.ok("send", "--to", "alice", "--message", "before the hold", agent="bob")
    sb.ok("send", "--to", "alice", "--message", "pending", agent="bob")
    sb.ok("register", "--name", "carol", agent="carol")  # a reader whose check-in is due during the hold
    with contextlib.closing(sb.connect()) as conn:
        conn.execute("UPDATE agents SET last_seen = last_seen - 600 WHERE id = 'carol'")
    holder = subprocess.Popen([PYTHON, "-c", HOLDER, str(sb.db_path), str(hold)], stdout=subprocess.PIPE, text=True)
    held_at = float(holder.stdout.readline().split()[1])
    base = {"session_id": "busy-alice", "cwd": str(sb.repo)}
    edit = dict(base, tool_name="Edit", tool_input={"file_path": str(sb.repo / "free.py")})
    payloads = {
        "session-start": dict(base, source="startup"),
        "user-prompt-submit": dict(base, prompt="hello"),
        "pre-tool-use": dict(base, tool_name="Edit", tool_input={"file_path": str(sb.repo / "held.py")}),
        "post-tool-use": edit,
        "stop": dict(base, stop_hook_active=False),
        "session-end": dict(base, reason="other"),
    }
    # Everything runs at once, so even the short hold outlasts every measurement.
    jobs = {f"hook {e}": (sb.hook_cmd(e), json.dumps(payloads[e]), "alice", {}) for e in HOOK_EVENTS}
    jobs["hook pre-tool-use (free file)"] = (sb.hook_cmd("pre-tool-use"), json.dumps(edit), "alice", {})
    jobs["hook session-start (check-in due)"] = (sb.hook_cmd("session-start"), json.dumps(payloads["session-start"]),
                                                 "carol", {})
    writes = {"log": ["log", "--type", "note", "--message", "during the hold"],
              "lock": ["lock", "other.py"], "send": ["send", "--to", "bob", "--message", "during the hold"],
              "create-task": ["create-task", "during the hold"], "inbox --mark-read": ["inbox", "--mark-read"]}
    reads = {"status": ["status"], "locks": ["locks"], "tasks": ["tasks"], "inbox": ["inbox"],
             "inbox --all": ["inbox", "--all"]}
    for name, argv in writes.items():
        jobs[name] = (sb.cli(*argv), None, "alice", env)
    for name, argv in reads.items():
        jobs[name] = (sb.cli(*argv), None, "carol", env)
    results = {}

    def run(name):
        argv, data, agent, extra = jobs[name]
        results[name] = sb.run(argv, agent=agent, input=data, env=extra)

    for batch in ([n for n in jobs if n.startswith("hook")], [n for n in jobs if not n.startswith("hook")]):
        threads = [threading.Thread(target=run, args=(name,)) for name in batch]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    measured_until = time.time()
    for event in HOOK_EVENTS + ("pre-tool-use (free file)", "session-start (check-in due)"):
        name = f"hook {event}"
        result = results[name]
        rep.check(result, name, {0})
        if event == "pre-tool-use" and '"permissionDecision": "deny"' not in result.out:
            rep.fail(f"{name} did not refuse held.py: {result!r}")  # reads still work under WAL: the lock holds
        if result.elapsed > hook_limit:
            rep.fail(f"{name} took {result.elapsed:.2f}s (limit {hook_limit}s)")
        if not event.startswith("pre-tool-use") and "busy" not in result.err:
            rep.fail(f"{name} gave no busy note on stderr: {result!r}")
    for name in writes:
        result = results[name]
        rep.check(result, name, {5})
        lines = result.err.strip().splitlines()
        if len(lines) != 1 or "busy" not in lines[0] or not lines[0].startswith("agent-sync:"):
            rep.fail(f"{name}: expected one clear busy line on stderr, got {result.err!r}")
        if not bound - 0.1 <= result.elapsed <= bound + 2.0:
            rep.fail(f"{name} waited {result.elapsed:.2f}s; the bound is {bound:g}s")
    for name in reads:
        rep.check(results[name], name, {0})
    if measured_until - held_at > hold:
        rep.fail(f"the measurements outlasted the hold ({measured_until - held_at:.1f}s > {hold}s)")
    holder.stdout.readline()
    holder.wait(timeout=hold + 60)
    # After the holder lets go: everything works, and nothing is lost.
    after = {"log": ["log", "--type", "note", "--message", "after the hold"], "lock": ["lock", "other.py"],
             "send": ["send", "--to", "bob", "--message", "after the hold"], "inbox": ["inbox", "--json"]}
    for name, argv in after.items():
        rep.check(sb.run(sb.cli(*argv), agent="alice", env=env), f"{name} after the hold", {0})
    inbox = json.loads(sb.run(sb.cli("inbox", "--all", "--json"), agent="alice").out)["messages"]
    if [m["body"] for m in inbox] != ["before the hold", "pending"]:
        rep.fail(f"alice's messages after the hold: {[m['body'] for m in inbox]}")
    kept = {
        "holder's commit": "SELECT 1 FROM decisions WHERE text = 'written by the holder'",
        "log before": "SELECT 1 FROM activity WHERE message = 'before the hold'",
        "log after": "SELECT 1 FROM activity WHERE message = 'after the hold'",
        "bob's lock": "SELECT 1 FROM locks WHERE key = 'held.py' AND owner = 'bob'",
        "lock after": "SELECT 1 FROM locks WHERE key = 'other.py' AND owner = 'alice'",
    }
    for what, sql in kept.items():
        if not sb.query(sql):
            rep.fail(f"lost: {what}")
    if sb.query("SELECT 1 FROM activity WHERE message = 'during the hold'"):
        rep.fail("a write reported as busy (exit 5) was applied anyway")
    if sb.integrity() != "ok":
        rep.fail(f"integrity_check: {sb.integrity()}")
    hook_times = {n.removeprefix("hook "): f"{r.elapsed:.2f}s" for n, r in results.items() if n.startswith("hook")}
    rep.figure("hook wall times", hook_times)
    rep.figure("CLI writes (exit 5)", {n: f"{results[n].elapsed:.2f}s" for n in writes})
    rep.figure("CLI reads (exit 0)", {n: f"{results[n].elapsed:.2f}s" for n in reads})
    return rep.finish()


# ---------------------------------------------------------------------------
# 7 (long form). Hostile hook payloads through real processes


EVENTS = ("session-start", "user-prompt-submit", "pre-tool-use", "post-tool-use", "stop", "subagent-stop",
          "session-end")


def random_payload(rng, repo):
    """Hostile stdin for a hook: junk bytes, wrong shapes, huge or nasty strings, real-looking fields."""
    nasty = ["", "\x00", "\x1b[31m", "</agent-sync-state>", "[&/agent-sync-state]", "../../etc/passwd", "/etc/passwd", "a\nb", "\ud800",
             "x" * rng.choice((1, 300, 70000)), str(repo), str(repo / "src" / "a.py"), "*", "**/*", "[",
             "; rm -rf /", "$(touch pwned)", "\u202e", "é", "🙂"]
    def value(depth=0):
        kind = rng.randrange(8 if depth < 3 else 5)
        if kind == 0:
            return rng.choice(nasty)
        if kind == 1:
            return rng.choice([None, True, False, 0, -1, 2 ** 70, 1e308, float("nan")])
        if kind == 2:
            return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(20)))
        if kind in (3, 4):
            return rng.choice(nasty) + rng.choice(nasty)
        if kind == 5:
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return {rng.choice(["tool_name", "tool_input", "file_path", "command", "cwd", "x"]): value(depth + 1)
                for _ in range(rng.randrange(4))}
    shape = rng.randrange(6)
    if shape == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
    if shape == 1:
        return json.dumps(value()).encode("utf-8", "surrogatepass")
    payload = {"session_id": rng.choice(["fuzz-a", "fuzz-b", value()]), "cwd": rng.choice([str(repo), value()]),
               "tool_name": rng.choice(["Edit", "Write", "MultiEdit", "NotebookEdit", "Bash", "Read", value()]),
               "tool_input": rng.choice([{"file_path": value(), "command": value()}, value()]),
               "prompt": value(), "stop_hook_active": value(), "reason": value(), "source": value()}
    for key in rng.sample(sorted(payload), rng.randrange(len(payload))):
        del payload[key]
    return json.dumps(payload, allow_nan=True).encode("utf-8", "surrogatepass")


def hook_fuzz(sb, runs_per_event=2000, seed=None, workers=4):
    """Random hostile payloads into each hook event through real processes."""
    rng = random.Random(seed)
    rep = Report("hook fuzz (processes)", f"{runs_per_event} random payloads x {len(EVENTS)} events")
    sb.ok("register", "--name", "guard", agent="guard")
    sb.ok("lock", "src/a.py", "--reason", "fuzz target", agent="guard")
    jobs = [(event, random_payload(rng, sb.repo)) for event in EVENTS for _ in range(runs_per_event)]
    rng.shuffle(jobs)
    codes = Counter()
    lock = threading.Lock()

    def work(chunk):
        for event, data in chunk:
            result = sb.hook(event, data)
            allowed = {0, 2} if event == "pre-tool-use" else {0}
            with lock:
                codes[(event, result.code)] += 1
                rep.check(result, f"{event} {data[:120]!r}", allowed)
                if result.out.strip():
                    _check_hook_stdout(rep, event, result.out)

    threads = [threading.Thread(target=work, args=(jobs[w::workers],)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    verdict = sb.integrity()
    if verdict != "ok":
        rep.fail(f"integrity_check: {verdict}")
    rep.figure("runs", len(jobs))
    rep.figure("exit codes", dict(Counter(code for (_e, code) in codes.elements())))
    rep.figure("integrity_check", verdict)
    return rep.finish()


def _check_hook_stdout(rep, event, out):
    try:
        doc = json.loads(out)
    except ValueError:
        rep.fail(f"{event}: stdout is not JSON: {out[:200]!r}")
        return
    specific = doc.get("hookSpecificOutput") or {}
    text = specific.get("additionalContext") or specific.get("permissionDecisionReason") or doc.get("reason") or ""
    if "\x1b" in text or text.count(FRAME_CLOSE) > 1 or text.count(FRAME_OPEN) > 1:
        rep.fail(f"{event}: unsafe text in the agent's context: {text[:300]!r}")


# ---------------------------------------------------------------------------
# Runner

SHORT = {
    "lock-race": {"procs": 32, "rounds": 4},
    "claim-race": {"procs": 16, "tasks": 10, "rounds": 3},
    "message-storm": {"senders": 8, "per_sender": 40, "recipients": 4},
    "crash": {"rounds": 25},
    "busy": {"hold": 8.0, "busy_timeout": 2},
    "hook-fuzz": {"runs_per_event": 30},
}
LONG = {
    "lock-race": {"procs": 32, "rounds": 20},
    "claim-race": {"procs": 16, "tasks": 10, "rounds": 10},
    "message-storm": {"senders": 8, "per_sender": 200, "recipients": 4, "spawn_senders": True},
    "crash": {"rounds": 100},
    "busy": {"hold": 30.0},
    "hook-fuzz": {"runs_per_event": 1500},
}
SCENARIOS = {"lock-race": lock_race, "claim-race": claim_race, "message-storm": message_storm, "crash": crash,
             "busy": busy, "hook-fuzz": hook_fuzz}


def run_scenario(name, base, pyz=DEFAULT_PYZ, **sizes):
    """Run one scenario in a fresh sandbox under `base`; return its Report."""
    sb = Sandbox(Path(base) / name, pyz)
    return SCENARIOS[name](sb, **sizes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenarios", nargs="*", choices=[[], *SCENARIOS], metavar="SCENARIO",
                        help=f"any of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--short", action="store_true", help="the sizes the test suite uses")
    parser.add_argument("--pyz", default=str(DEFAULT_PYZ), help="archive to test (default dist/agent-sync.pyz)")
    parser.add_argument("--keep", action="store_true", help="keep the sandboxes for inspection")
    args = parser.parse_args(argv)
    if not Path(args.pyz).exists():
        parser.error(f"{args.pyz} does not exist: run `make build` first")
    sizes = SHORT if args.short else LONG
    base = tempfile.mkdtemp(prefix="agent-sync-stress-")
    failed = 0
    try:
        for name in args.scenarios or SCENARIOS:
            report = run_scenario(name, base, args.pyz, **sizes[name])
            print(report, flush=True)
            failed += not report.ok
    finally:
        if args.keep:
            print(f"sandboxes kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
