#!/usr/bin/env python3
"""Scale and retention: the same commands on a small and a large database, and a simulated busy week.

    python3 bench/scale.py                 both parts, full size (50 agents, 10,000 tasks, 100,000 activity
                                           rows, 50,000 messages, 1,000 locks; 20 runs per command)
    python3 bench/scale.py --part scale    only the side-by-side timings
    python3 bench/scale.py --part week     only the retention week
    python3 bench/scale.py --runs 30

Scale: two repositories are populated straight through sqlite3 (bulk inserts
that respect the schema, then the lock index and mail stamp are published the
way agent-sync writes them). Each command runs as a real process of the
built archive, alternating small and large, and the medians are compared;
the target is large <= 1.5x small. History caps are lifted for the timed
runs (AGENT_SYNC_KEEP_*) so the populations stay put while measured.

Week: five agents work a simulated week through agent-sync's own core
functions in one process, with the clock (ctx.now) advanced by hand: every
tool call is a write transaction logging activity and renewing locks (the
post-tool-use hook's work, with its automatic prune every 500 rows), agents
send and read messages, and each agent's daily session start runs gc. The
database size is reported every simulated day. Nothing is a test here:
tests/test_scale.py checks correctness at smaller sizes (it imports this module,
which is why it lives in tests/; bench/scale.py runs it at full size).
"""

import argparse
import contextlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from agent_sync.install import command_line as hookcommand

from agent_sync.core import lockindex, mailstamp, repo
from agent_sync.core.db import Database

import environment  # noqa: E402 - tests/environment.py, the isolated environment

PYTHON = sys.executable
DEFAULT_PYZ = ROOT / "dist" / "agent-sync.pyz"
LARGE = {"agents": 50, "tasks": 10_000, "activity": 100_000, "messages": 50_000, "locks": 1_000}
SMALL = {"agents": 5, "tasks": 60, "activity": 500, "messages": 200, "locks": 10}
TARGET = 1.5
ME = "agent-00"  # the agent whose commands are timed
UNREAD = 20      # messages waiting for the reader on every `inbox` run


# ---------------------------------------------------------------------------
# Population


def make_repo(base, name):
    path = Path(base) / name
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def populate(root, agents, tasks, activity, messages, locks, now=None, seed=7):
    """Fill the database at `root` with a team's history, as agent-sync itself would have written it."""
    rng = random.Random(seed)
    now = time.time() if now is None else now
    db = Database(str(root), 30.0)  # creates the schema through the real migrations
    db.close()
    conn = sqlite3.connect(repo.db_path(str(root)), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    ids = [f"agent-{i:02d}" for i in range(agents)]
    roles = ["frontend", "backend", "tests", "docs", "infra"]
    conn.executemany(
        "INSERT INTO agents (id, name, name_key, role, role_key, kind, cwd, state, created_at, last_seen)"
        " VALUES (?, ?, ?, ?, ?, 'agent', ?, ?, ?, ?)",
        [(a, f"worker{i}", f"worker{i}", roles[i % 5], roles[i % 5], str(root),
          "active" if i % 10 else "idle", now - 86400 * 3, now - rng.uniform(0, 600)) for i, a in enumerate(ids)])
    _tasks(conn, rng, ids, tasks, now)
    _locks(conn, rng, ids, locks, now)
    _history(conn, rng, ids, activity, messages, now)
    conn.executemany("INSERT INTO decisions (agent, text, created_at) VALUES (?, ?, ?)",
                     [(rng.choice(ids), f"decision {n}", now - n) for n in range(min(200, tasks))])
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    _publish(root)


def _tasks(conn, rng, ids, count, now):
    statuses = []
    for n in range(count):
        r = n / count
        statuses.append("done" if r < 0.6 else "cancelled" if r < 0.65 else "blocked" if r < 0.67
                        else "in_progress" if r < 0.67 + min(0.004, 40 / count) else "open")
    rows, files = [], []
    for n, status in enumerate(statuses, 1):
        owner = rng.choice(ids[1:]) if status in ("in_progress", "done") else None
        rows.append((n, f"task {n}", f"task {n}", "", status, rng.randrange(6), owner, ids[0],
                     "waits" if status == "blocked" else None, now - 3 * 86400 + n, now - (count - n)))
        files.append((n, f"src/area{n % 50}/mod{n}.py"))
    conn.executemany("INSERT INTO tasks (id, title, title_key, description, status, priority, owner, created_by,"
                     " block_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.executemany("INSERT INTO task_files (task_id, path) VALUES (?, ?)", files)
    done = [r[0] for r in rows if r[4] == "done"]
    opened = [r[0] for r in rows if r[4] == "open"]
    deps = {(t, rng.choice(done)) for t in opened[::10] if done}
    deps |= {(t, rng.choice(opened)) for t in opened[5::50] if opened}
    conn.executemany("INSERT OR IGNORE INTO task_deps (task_id, depends_on) VALUES (?, ?)",
                     [(t, d) for t, d in deps if t != d])
    for owner, task in conn.execute("SELECT owner, id FROM tasks WHERE status = 'in_progress'").fetchall():
        conn.execute("UPDATE agents SET current_task = ? WHERE id = ?", (task, owner))


def _locks(conn, rng, ids, count, now):
    rows = []
    for n in range(count):
        owner = ids[1 + n % (len(ids) - 1)] if len(ids) > 1 else ids[0]
        if n % 50 == 49:
            key, kind = f"gen/g{n}/**/*.py", "glob"
        elif n % 10 == 9:
            key, kind = f"lib/d{n}/", "dir"
        else:
            key, kind = f"src/area{n % 50}/locked{n}.py", "file"
        rows.append((key, key, kind, owner, f"working on {n}", 1, 3600.0, now - 60, now + 3600 - rng.uniform(0, 600)))
    conn.executemany("INSERT INTO locks (key, path, kind, owner, reason, token, ttl, created_at, expires_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.executemany("INSERT INTO fences (key, token) VALUES (?, 1)", [(r[0],) for r in rows])


def _history(conn, rng, ids, activity, messages, now):
    span = 3 * 86400  # inside the default 14-day window: nothing here is prunable by age
    conn.executemany("INSERT INTO activity (agent, type, message, path, created_at) VALUES (?, ?, ?, ?, ?)",
                     ((rng.choice(ids), "edit", f"Edit src/area{n % 50}/mod{n}.py", f"src/area{n % 50}/mod{n}.py",
                       now - span + span * n / activity) for n in range(activity)))
    rows = []
    for n in range(1, messages + 1):
        sender = rng.choice(ids)
        to = "all" if n % 5 < 3 else rng.choice(ids)
        rows.append((n, sender, sender, to, to, f"message {n} " + "x" * rng.randrange(20, 200),
                     now - span + span * n / messages))
    conn.executemany("INSERT INTO messages (id, sender, sender_name, recipient, to_key, body, created_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    # Everyone has read everything but the newest few; receipts exist for what was read recently.
    settled = max(0, messages - UNREAD)
    conn.execute("UPDATE agents SET msg_hw = ?", (settled,))
    recent = [(mid, to) for mid, _s, _n, _r, to, _b, _t in rows[-2000:] if mid <= settled]
    conn.executemany("INSERT INTO receipts (message_id, agent_id, seen_at, via) VALUES (?, ?, ?, 'prompt-hook')",
                     [(mid, a, now) for mid, to in recent for a in ids if to in ("all", a)])


def _publish(root):
    """The lock index and mail stamp, written as agent-sync's own writers write them."""
    db = Database(str(root), 30.0)
    try:
        with db.write():
            lockindex.publish(db, merge_existing=False)
            mailstamp.publish(str(root), db.scalar("SELECT COALESCE(MAX(id), 0) FROM messages"))
    finally:
        db.close()


def reset_unread(root, agent):
    """Put the newest UNREAD messages back in `agent`'s inbox (between timed runs, not timed)."""
    conn = sqlite3.connect(repo.db_path(str(root)), isolation_level=None, timeout=30)
    try:
        newest = conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]
        conn.execute("DELETE FROM receipts WHERE agent_id = ? AND message_id > ?", (agent, newest - UNREAD))
        conn.execute("UPDATE agents SET msg_hw = ? WHERE id = ?", (newest - UNREAD, agent))
    finally:
        conn.close()
    seen = os.path.join(repo.state_dir(str(root)), mailstamp.SEEN_DIR, agent)
    if os.path.exists(seen):
        os.remove(seen)


def reopen(root, claim_output):
    """Put the task claim-next just took back on the board, so every timed run finds the same board."""
    task = int(claim_output.split(b"#", 1)[1].split()[0])
    conn = sqlite3.connect(repo.db_path(str(root)), isolation_level=None, timeout=30)
    try:
        conn.execute("UPDATE tasks SET status = 'open', owner = NULL WHERE id = ?", (task,))
        conn.execute("UPDATE agents SET current_task = NULL WHERE id = ?", (ME,))
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# Timing


def clean_env(home, **extra):
    """The tests' isolated environment, with the history caps lifted so populations stay put."""
    return environment.clean_env(home, **{"AGENT_SYNC_KEEP_ACTIVITY": "10000000",
                                          "AGENT_SYNC_KEEP_MESSAGES": "10000000", **extra})


def cases(pyz):
    hook = [PYTHON, "-I", "-S", "-c", hookcommand.LAUNCH, str(pyz)]
    return {
        "status --compact": ([PYTHON, str(pyz), "status", "--compact"], None, {0}),
        "claim-next": ([PYTHON, str(pyz), "claim-next"], None, {0}),
        "locks": ([PYTHON, str(pyz), "locks"], None, {0}),
        "inbox": ([PYTHON, str(pyz), "inbox"], None, {0}),
        "pre-tool-use (allowed)": (hook + ["pre-tool-use"], {"tool_name": "Edit", "file_path": "src/area7/new.py"},
                                   {0}),
        "pre-tool-use (blocked)": (hook + ["pre-tool-use"], {"tool_name": "Edit", "file_path": "src/area1/locked1.py"},
                                   {0}),  # the installed command refuses with Claude Code's deny JSON on exit 0
        # Beyond the list: the other hooks and listings an agent meets every day.
        "user-prompt-submit": (hook + ["user-prompt-submit"], {}, {0}),
        "session-start": (hook + ["session-start"], {}, {0}),
        "inbox --all": ([PYTHON, str(pyz), "inbox", "--all"], None, {0}),
        "tasks --state open": ([PYTHON, str(pyz), "tasks", "--state", "open"], None, {0}),
        "gc": ([PYTHON, str(pyz), "gc"], None, {0}),
    }
REQUIRED = ("status --compact", "claim-next", "locks", "inbox", "pre-tool-use (allowed)", "pre-tool-use (blocked)")


def run_case(root, home, argv, edit, codes):
    data = None
    if edit is not None:
        payload = {"session_id": "scale", "cwd": str(root), "prompt": "go", "source": "startup"}
        if edit:
            payload.update(tool_name=edit["tool_name"], tool_input={"file_path": edit["file_path"]})
        data = json.dumps(payload).encode()
    start = time.perf_counter()
    proc = subprocess.run(argv, check=False, cwd=str(root), env=clean_env(home, AGENT_SYNC_ID=ME), input=data,
                          capture_output=True, timeout=120)
    elapsed = time.perf_counter() - start
    if proc.returncode not in codes or b"Traceback" in proc.stderr:
        raise AssertionError(f"{argv[-1]} in {root}: exit {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed, proc.stdout


def compare(small, large, home, pyz, runs=20, only=None):
    """{case: (median small s, median large s, ratio)}, runs alternating small and large."""
    results = {}
    for name, (argv, edit, codes) in cases(pyz).items():
        if only and name not in only:
            continue
        times = {small: [], large: []}
        for n in range(runs + 1):
            for root in ((small, large) if n % 2 else (large, small)):
                if name in ("inbox", "user-prompt-submit"):
                    reset_unread(root, ME)
                elapsed, out = run_case(root, home, argv, edit, codes)
                if name == "claim-next":
                    reopen(root, out)
                if n:  # the first round warms the page cache
                    times[root].append(elapsed)
        s, lg = statistics.median(times[small]), statistics.median(times[large])
        results[name] = (s, lg, lg / s)
    return results


def row_counts(root):
    with contextlib.closing(sqlite3.connect(repo.db_path(str(root)))) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("agents", "tasks", "activity", "messages", "locks")}


def scale_part(base, pyz, runs):
    home = Path(base) / "home"
    home.mkdir(exist_ok=True)
    small, large = make_repo(base, "small"), make_repo(base, "large")
    start = time.monotonic()
    populate(small, **SMALL)
    populate(large, **LARGE)
    print(f"populated in {time.monotonic() - start:.1f}s: small {row_counts(small)}; large {row_counts(large)}; "
          f"large file {os.path.getsize(repo.db_path(str(large))) / 1e6:.1f} MB", flush=True)
    results = compare(small, large, home, pyz, runs)
    print(f"\n{'command':<26} {'small (ms)':>10} {'large (ms)':>10} {'ratio':>6}  target <= {TARGET}x "
          f"(medians of {runs} runs, alternating)")
    worst = 0.0
    for name, (s, lg, ratio) in results.items():
        if name in REQUIRED:
            worst = max(worst, ratio)
        verdict = ("ok" if ratio <= TARGET else "SLOW") if name in REQUIRED else "(reported)"
        print(f"{name:<26} {s * 1000:>10.1f} {lg * 1000:>10.1f} {ratio:>6.2f}  {verdict}")
    return worst <= TARGET


# ---------------------------------------------------------------------------
# A simulated week


def simulate_week(root, days=7, agents=5, calls_per_hour=750, hours=10, messages_per_hour=40, report=print):
    """Five busy agents, `days` days, through the core with a hand-advanced clock. Returns daily sizes."""
    from agent_sync.core import agents as agents_mod
    from agent_sync.core import gc, journal, locks, lockspec, messages
    from agent_sync.core.context import Context
    from agent_sync.core.identity import Identity

    rng = random.Random(11)
    start = time.time() - days * 86400
    names = [f"dev-{i}" for i in range(agents)]
    ctxs = {}
    for name in names:
        ctx = Context(root=str(root), cwd=str(root), me=Identity(name, "env"))
        ctx.now = start
        agents_mod.register(ctx, name)
        ctxs[name] = ctx
    sizes = []
    for day in range(days):
        for name in names:  # each morning's session start runs gc
            ctx = ctxs[name]
            ctx.now = start + day * 86400 + 9 * 3600
            gc.collect(ctx)
            locks.acquire(ctx, [lockspec.Spec(f"src/{name}/", f"src/{name}/", lockspec.DIR)], ttl=8 * 3600)
        for hour in range(hours):
            for call in range(calls_per_hour):
                name = names[call % agents]
                ctx = ctxs[name]
                ctx.now = start + day * 86400 + (9 + hour) * 3600 + call * 3600 / calls_per_hour
                path = f"src/{name}/f{rng.randrange(200)}.py"
                spec = lockspec.Spec(path, path, lockspec.FILE)
                with ctx.db.write():  # what post-tool-use does for one edit
                    agents_mod.check_in(ctx)
                    journal.log(ctx, "edit", f"Edit {path}", path)
                    locks.renew_covering(ctx, spec)
                if call % max(1, calls_per_hour // messages_per_hour) == 0:
                    messages.send(ctx, rng.choice(["all"] + names), f"day {day} hour {hour}: " + "m" * 120)
                    reader = ctxs[rng.choice(names)]
                    reader.now = ctx.now
                    messages.take_pending(reader, "prompt-hook")
        sizes.append(_size_report(root, day + 1))
        report(sizes[-1]["line"])
    for ctx in ctxs.values():
        ctx.close()
    return sizes


def _size_report(root, day):
    path = repo.db_path(str(root))
    wal = os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0
    db_bytes = os.path.getsize(path) + wal
    with contextlib.closing(sqlite3.connect(path)) as conn:
        counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("activity", "messages", "receipts", "agents")}
        written = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'activity'").fetchone()[0]
    line = (f"day {day}: {written} activity rows written so far, kept {counts['activity']}; "
            f"messages kept {counts['messages']}, receipts {counts['receipts']}; "
            f"database {os.path.getsize(path) / 1e6:.1f} MB + WAL {wal / 1e6:.1f} MB")
    return dict(day=day, written=written, bytes=db_bytes, line=line, **counts)


def week_part(base, days=7):
    root = make_repo(base, "week")
    print(f"\nA simulated {days} days: 5 agents x 10 h/day, 150 tool calls/h each (750/h in all) and 40 messages/h, "
          "clock advanced by hand; defaults: retention 14d, keep 20,000 activity rows and 5,000 messages")
    started = time.monotonic()
    sizes = simulate_week(root, days=days)
    path = repo.db_path(str(root))
    with contextlib.closing(sqlite3.connect(path)) as conn:  # as when the last agent process exits
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"simulated in {time.monotonic() - started:.0f}s; after the last process exits the database is "
          f"{os.path.getsize(path) / 1e6:.1f} MB (WAL checkpointed)")
    return sizes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("scale", "week", "all"), default="all")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "20")))
    parser.add_argument("--pyz", default=str(DEFAULT_PYZ))
    parser.add_argument("--days", type=int, default=7, help="length of the simulated stretch (default 7)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch repositories")
    args = parser.parse_args(argv)
    base = tempfile.mkdtemp(prefix="agent-sync-scale-")
    pyz = Path(base) / "agent-sync.pyz"
    shutil.copyfile(args.pyz, pyz)
    ok = True
    try:
        if args.part in ("scale", "all"):
            ok = scale_part(base, pyz, args.runs)
        if args.part in ("week", "all"):
            week_part(base, args.days)
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
