"""Smarter locks, black-box: patterns and directories, shared vs exclusive, several paths
at once, fair waiting, deadlock refusal, fencing tokens, renewal and task leases.

Everything runs the built dist/agent-sync.pyz. To keep process counts low, many
cases share one repository: each case lives under its own directory prefix
(`c07/...`), so cases never overlap one another, one `lock` call can take every
held lock at once, and a failing multi-path `lock` reports one clash per case.
"""

import fnmatch
import itertools
import json
import random
import re
import shlex
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing

import pytest
from conftest import PYZ, ROOT, STORE, clean_env
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(ROOT))

from agent_sync.core import lockspec, wildmatch  # noqa: E402

CLASH_BATCH = 5  # clashes per failing `lock`: the one-line error is capped at 2000 characters


# ---------------------------------------------------------------------------
# helpers


def locks_by_path(repo, agent="observer"):
    """{path: [lock docs]} from `locks --json` (several owners when shared)."""
    found = {}
    for lk in repo.json("locks", agent=agent)["locks"]:
        found.setdefault(lk["path"], []).append(lk)
    return found


def is_pattern(spec):
    return any(c in spec for c in "*?[")


def clash_text(wanted, held):
    """How the refusal names a clash between the requested `wanted` and the held `held`."""
    if wanted == held:
        return f"{wanted} is locked"
    if not is_pattern(wanted) and not wanted.endswith("/"):
        return f"{wanted} (covered by {held}) is locked"
    return f"{wanted} overlaps {held}, which is locked"


def check_overlaps(repo, cases, held_flags=(), wanted_flags=()):
    """cases: [(held, wanted, expect_conflict)], each under its own prefix already.

    alice takes every held lock in one call. bob takes every expected-free lock in
    one call (it must succeed: no false conflicts), then tries the expected clashes
    in small batches: each must fail with exit 3, naming both locks of every clash.
    """
    repo.ok("lock", *[h for h, _w, _c in cases], *held_flags, agent="alice")
    free = [w for _h, w, c in cases if not c]
    if free:
        result = repo.run("lock", *free, *wanted_flags, agent="bob")
        assert result.code == 0, (free, result)
    clashing = [(h, w) for h, w, c in cases if c]
    for start in range(0, len(clashing), CLASH_BATCH):
        batch = clashing[start:start + CLASH_BATCH]
        result = repo.run("lock", *[w for _h, w in batch], *wanted_flags, agent="bob")
        assert result.code == 3, (batch, result)
        for held, wanted in batch:
            assert clash_text(wanted, held) in result.err, (held, wanted, result.err)
            assert f"--message {shlex.quote('please release ' + held)}" in result.err, (held, result.err)
    mine = {lk["path"] for lk in repo.json("locks", "--mine", agent="bob")["locks"]}
    assert mine == set(free), "a refused multi-path lock must grant nothing"


def token_of(output):
    return int(re.search(r"\(token (\d+)\)", output).group(1))


def spawn(repo, *args, agent):
    env = clean_env(repo.home, **repo.env, AGENT_SYNC_ID=agent)
    return subprocess.Popen([sys.executable, str(PYZ), *map(str, args)], cwd=str(repo.path), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def queued(repo):
    """Live rows in the wait queue (read straight from the store, to pace the test)."""
    if STORE == "etcd":
        from agent_sync.core.etcd.client import Client
        from agent_sync.core.etcd.keys import Keys

        namespace = json.loads((repo.path / ".claude" / "agent-sync.json").read_text())["namespace"]
        with Client.from_url(repo.env["AGENT_SYNC_BACKEND"]) as client:
            return client.range(Keys(namespace).waiters, prefix=True, count_only=True).count
    if not repo.db.exists():
        return 0
    with closing(sqlite3.connect(str(repo.db), timeout=10)) as db:
        return db.execute("SELECT count(*) FROM lock_waiters").fetchone()[0]


def wait_until(predicate, timeout=20.0, what="condition", step=0.05):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(step)


def hook_edit(repo, path, agent):
    return repo.hook("pre-tool-use", {"tool_name": "Edit", "tool_input": {"file_path": path},
                                      "cwd": str(repo.path)}, agent=agent)


def hook_bash(repo, command, agent):
    return repo.hook("pre-tool-use", {"tool_name": "Bash", "tool_input": {"command": command},
                                      "cwd": str(repo.path)}, agent=agent)


# ---------------------------------------------------------------------------
# Patterns and directories


def test_pattern_directory_and_file_forms(repo):
    (repo.path / "docs").mkdir()
    (repo.path / "src").mkdir()
    repo.ok("lock", "src/api/**", "src/*.py", "lib/", "docs", "README.md", agent="alice")
    repo.ok("lock", "*.py", agent="alice", cwd=repo.path / "src")  # relative to the current directory
    kinds = {path: lks[0]["kind"] for path, lks in locks_by_path(repo).items()}
    assert kinds == {"src/api/**": "glob", "src/*.py": "glob", "lib/": "dir", "docs/": "dir",
                     "README.md": "file"}
    assert repo.run("lock", "*.py", agent="bob", cwd=repo.path / "src").code == 3
    repo.ok("unlock", "*.py", agent="alice", cwd=repo.path / "src")


OVERLAP_TABLE = [
    # (held by alice, wanted by bob, conflict?)
    ("src/**", "src/a.py", True),             # a file inside a locked pattern
    ("src/a.py", "src/**", True),             # a pattern covering someone's file
    ("src/", "src/a/b.py", True),             # a file inside a locked directory
    ("src/a/b.py", "src/", True),             # a directory covering someone's file
    ("src/api/", "src/api/**", True),
    ("src/*.py", "src/a*", True),             # two patterns that share src/a.py
    ("src/a*", "src/*b", True),               # ... and src/ab
    ("src/[ab].py", "src/?.py", True),
    ("**/*.py", "x/y/z.py", True),
    ("a/**/b", "a/b", True),                  # `/**/` matches zero directories
    ("src/api/**", "src/api/v1/", True),
    ("same.py", "same.py", True),
    ("*.py", "a/x.py", False),                # `*` never crosses '/'
    ("src/*.py", "src/api/", False),
    ("src/*.js", "src/*.py", False),
    ("src/[ab].py", "src/c.py", False),
    ("src/api/", "src/api2/", False),
    ("docs/**", "src/**", False),
    ("a/*/b", "a/b", False),
    ("a/**", "a", False),                     # `a/**` is what is under a, not a itself
]


def test_overlap_table_both_ways(repo):
    cases = [(f"c{i:02d}/{h}", f"c{i:02d}/{w}", c) for i, (h, w, c) in enumerate(OVERLAP_TABLE)]
    check_overlaps(repo, cases)


# A generated grammar whose overlaps always have a witness in a small universe: specs of
# at most three segments (two when they end in '/'), overlaps then need at most four.
TOKENS = ["a", "b", "ab", "*", "a*", "*b", "?", "[ab]", "**"]
UNIVERSE = ["/".join(p) for depth in range(1, 5) for p in itertools.product(["a", "b", "ab", "x"], repeat=depth)]


def generated_spec(rng):
    segments = [rng.choice(TOKENS) for _ in range(rng.randint(1, 3))]
    text = "/".join(segments)
    if len(segments) <= 2 and rng.random() < 0.3:
        text += "/"
    return text + "**" if is_pattern(text) and text.endswith("/") else text  # what `lock` stores


def brute_covers(spec, path):
    """An independent reference: segment-wise recursion with fnmatch for single segments."""
    if not is_pattern(spec):
        return path == spec or (spec.endswith("/") and (path == spec[:-1] or path.startswith(spec)))
    return _segments_match(spec.split("/"), path.split("/"))


def _segments_match(pattern, parts):
    if not pattern:
        return not parts
    if pattern[0] == "**":
        if len(pattern) == 1:
            return len(parts) >= 1
        return any(_segments_match(pattern[1:], parts[k:]) for k in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _segments_match(pattern[1:], parts[1:])


def brute_overlap(a, b):
    return any(brute_covers(a, p) and brute_covers(b, p) for p in UNIVERSE)


def test_generated_overlaps_match_brute_force(repo):
    rng = random.Random(20261125)
    want = {True: 15, False: 15}
    cases = []
    while any(want.values()):
        a, b = generated_spec(rng), generated_spec(rng)
        overlap = brute_overlap(a, b)
        if want[overlap]:
            want[overlap] -= 1
            cases.append((f"g{len(cases):02d}/{a}", f"g{len(cases):02d}/{b}", overlap))
    check_overlaps(repo, cases)


@settings(max_examples=300, deadline=None)
@given(a=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=3),
       b=st.lists(st.sampled_from(["a", "b", "ab", "x", "a.py"]), min_size=1, max_size=4))
def test_file_fast_path_agrees_with_exact_overlap(a, b):
    """lockspec.overlaps short-cuts a plain file against a lock; it must equal the exact check."""
    pattern, path = "/".join(a), "/".join(b)
    for lock in (pattern, pattern + "/"):
        kind = lockspec.GLOB if is_pattern(lock) else (lockspec.DIR if lock.endswith("/") else lockspec.FILE)
        expected = wildmatch.may_overlap(path, lock)
        assert lockspec.overlaps(path, lockspec.FILE, lock, kind) == expected, (path, lock)
        assert lockspec.overlaps(lock, kind, path, lockspec.FILE) == expected, (lock, path)
        assert lockspec.overlaps("zz/" + lock, kind, path, lockspec.FILE) is False


def test_hook_enforces_patterns_and_directories(repo):
    repo.ok("lock", "src/**/*.py", "docs/", "--reason", "restructuring", agent="alice")
    blocked = hook_edit(repo, "src/pkg/mod.py", agent="bob")
    assert blocked.code == 2, blocked
    assert "src/pkg/mod.py (covered by src/**/*.py)" in blocked.err and "alice" in blocked.err
    assert hook_edit(repo, "src/pkg/notes.txt", agent="bob").code == 0
    assert hook_edit(repo, "src/pkg/mod.py", agent="alice").code == 0  # never blocks the owner
    for command in ("echo x > docs/guide.md", "rm src/*.py", "cd src && sed -i s/a/b/ deep/er/x.py"):
        result = hook_bash(repo, command, agent="bob")
        assert result.code == 2, (command, result)
    assert hook_bash(repo, "echo x > notes/guide.md", agent="bob").code == 0


def test_hook_with_200_pattern_locks(repo):
    patterns = [f"pkg{i}/**/*.py" for i in range(200)]
    repo.ok("lock", *patterns, agent="alice")
    blocked = hook_edit(repo, "pkg137/a/b.py", agent="bob")
    assert blocked.code == 2 and "covered by pkg137/**/*.py" in blocked.err, blocked
    started = time.monotonic()
    for path in ("pkg137/a/b.txt", "other/x.py", "pkg1370/x.py"):
        assert hook_edit(repo, path, agent="bob").code == 0, path
    assert (time.monotonic() - started) / 3 < 5.0  # only a guard against blow-ups: bench/run.py measures it


# ---------------------------------------------------------------------------
# Shared vs exclusive

RELATIONS = [("m.py", "m.py", True), ("k/**", "k/m.py", True), ("k/m.py", "k/", True), ("k/*.py", "k/*.js", False)]


@pytest.mark.parametrize("held_mode", ["shared", "exclusive"])
@pytest.mark.parametrize("wanted_mode", ["shared", "exclusive"])
def test_shared_exclusive_matrix(repo, held_mode, wanted_mode):
    both_shared = held_mode == wanted_mode == "shared"
    cases = [(f"r{i}/{h}", f"r{i}/{w}", overlap and not both_shared) for i, (h, w, overlap) in enumerate(RELATIONS)]
    flags = {"shared": ("--shared",), "exclusive": ()}
    check_overlaps(repo, cases, held_flags=flags[held_mode], wanted_flags=flags[wanted_mode])
    if both_shared:
        assert {lk["mode"] for lks in locks_by_path(repo).values() for lk in lks} == {"shared"}


def test_shared_locks_coexist_and_the_hook_lets_only_holders_edit(repo):
    repo.ok("lock", "--shared", "api/schema.py", agent="alice")
    repo.ok("lock", "--shared", "api/**", agent="bob")
    assert [lk["owner"] for lk in locks_by_path(repo)["api/schema.py"]] == ["alice"]
    refused = repo.run("lock", "api/schema.py", agent="carol")
    assert refused.code == 3 and "(shared) by alice" in refused.err and "(shared) by bob" in refused.err, refused
    # Only shared locks of others cover the file: outsiders are blocked, holders are not.
    assert hook_edit(repo, "api/schema.py", agent="carol").code == 2
    assert hook_edit(repo, "api/schema.py", agent="alice").code == 0
    assert hook_edit(repo, "api/schema.py", agent="bob").code == 0
    assert hook_edit(repo, "api/other.py", agent="alice").code == 2  # only bob's api/** covers it
    repo.ok("lock", "--shared", "api/schema.py", agent="carol")
    assert hook_edit(repo, "api/schema.py", agent="carol").code == 0


# ---------------------------------------------------------------------------
# Several paths at once

RACER = textwrap.dedent("""
    import contextlib, io, json, os, sys, time
    pyz, sync, me, rounds, plan = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
    sys.path.insert(0, pyz)
    from agent_sync.cli import main as cli
    codes = []
    for i in range(rounds):
        open(os.path.join(sync, f"ready-{i}-{me}"), "w").close()
        while not os.path.exists(os.path.join(sync, f"go-{i}")):
            time.sleep(0.0005)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            codes.append(cli.main(["lock", *[f"r{i}/{p}" for p in plan]]))
    print(json.dumps(codes))
""")


def test_multi_path_lock_is_all_or_nothing(repo):
    repo.ok("lock", "c.py", agent="carol")
    refused = repo.run("lock", "a.py", "b.py", "c.py", agent="alice")
    assert refused.code == 3 and "c.py is locked by carol" in refused.err, refused
    assert set(locks_by_path(repo)) == {"c.py"}


def test_multi_path_race_never_both_never_partial(repo, tmp_path):
    """Racers take `a b`, `b a` and `b c` in many rounds, released each round by a fresh prefix."""
    rounds = 25
    plans = {"ann": ["a", "b"], "ben": ["b", "a"], "cat": ["b", "c"]}
    sync = tmp_path / "sync"
    sync.mkdir()
    procs = {
        me: subprocess.Popen([sys.executable, "-c", RACER, str(PYZ), str(sync), me, str(rounds), json.dumps(plan)],
                             cwd=str(repo.path), env=clean_env(repo.home, **repo.env, AGENT_SYNC_ID=me),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for me, plan in plans.items()
    }
    for i in range(rounds):
        wait_until(lambda i=i: all((sync / f"ready-{i}-{me}").exists() for me in plans), what=f"round {i}",
                   step=0.002)
        (sync / f"go-{i}").touch()
    codes = {}
    for me, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        codes[me] = json.loads(out.decode().strip().splitlines()[-1])
    held = {path: [lk["owner"] for lk in lks] for path, lks in locks_by_path(repo).items()}
    for i in range(rounds):
        winners = [me for me in plans if codes[me][i] == 0]
        assert all(codes[me][i] in (0, 3) for me in plans), (i, codes)
        assert len(winners) == 1, (i, codes)  # the first transaction always wins; the others must lose
        expected = {f"r{i}/{p}": [winners[0]] for p in plans[winners[0]]}
        actual = {path: owners for path, owners in held.items() if path.startswith(f"r{i}/")}
        assert actual == expected, (i, actual)


# ---------------------------------------------------------------------------
# Waiting fairly

WAITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from agent_sync.cli import main as cli
    code = cli.main(["lock", "queue.txt", "--wait=30"])
    sys.stdout.flush()
    sys.exit(code or cli.main(["unlock", "queue.txt"]))
""")


def test_fifo_order_with_8_waiters(repo):
    repo.ok("lock", "queue.txt", agent="holder")
    waiters = []
    for n in range(8):
        env = clean_env(repo.home, **repo.env, AGENT_SYNC_ID=f"waiter{n}")
        waiters.append(subprocess.Popen([sys.executable, "-c", WAITER, str(PYZ)], cwd=str(repo.path), env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        wait_until(lambda n=n: queued(repo) == n + 1, what=f"waiter {n} to queue")
    repo.ok("unlock", "queue.txt", agent="holder")
    tokens = []
    for proc in waiters:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err.decode()
        tokens.append(token_of(out.decode()))
    assert tokens == sorted(set(tokens)), f"grant order (by fencing token) differs from arrival order: {tokens}"
    if STORE == "sqlite":  # per-path counters; etcd's tokens are cluster revisions, rising just the same
        assert tokens == list(range(2, 10))
    assert queued(repo) == 0


def test_plain_lock_cannot_jump_the_queue_and_a_quitter_leaves_it(repo):
    repo.ok("lock", "q.py", agent="alice")
    waiter = spawn(repo, "lock", "q.py", "--wait=20", agent="bob")
    wait_until(lambda: queued(repo) == 1, what="bob to queue")
    quitter = repo.run("lock", "q.py", "--wait=1", agent="dan")  # queues behind bob, then gives up
    assert quitter.code == 3 and "gave up" in quitter.err, quitter
    assert queued(repo) == 1
    renewed = repo.run("lock", "q.py", agent="alice")  # re-locking your own lock renews it, queue or not
    assert renewed.code == 0, renewed
    repo.ok("unlock", "q.py", agent="alice")
    jumper = repo.run("lock", "q.py", agent="carol")  # bob is still queued, or already granted
    assert jumper.code == 3 and ("queued first" in jumper.err or "is locked by bob" in jumper.err), jumper
    _out, err = waiter.communicate(timeout=30)
    assert waiter.returncode == 0, err.decode()
    assert [lk["owner"] for lk in locks_by_path(repo)["q.py"]] == ["bob"]
    assert queued(repo) == 0
    # With the queue empty again (the quitter left it), a plain lock is granted at once.
    repo.ok("unlock", "q.py", agent="bob")
    repo.ok("lock", "q.py", agent="dan")


def test_waiter_that_gives_up_leaves_the_queue_at_once(repo):
    repo.ok("lock", "f.py", agent="alice")
    gave_up = repo.run("lock", "f.py", "--wait=1", agent="bob")
    assert gave_up.code == 3 and "gave up" in gave_up.err, gave_up
    repo.ok("unlock", "f.py", agent="alice")
    # Its queue row is gone now, not in STALE_WAITER seconds: nobody is "queued first".
    repo.ok("lock", "f.py", agent="carol")
    assert queued(repo) == 0


def test_deadlock_is_refused_at_once(repo):
    repo.ok("lock", "x.py", agent="alice")
    repo.ok("lock", "y.py", agent="bob")
    alice_waits = spawn(repo, "lock", "y.py", "--wait=30", agent="alice")
    wait_until(lambda: queued(repo) == 1, what="alice to queue for y.py")
    started = time.monotonic()
    refused = repo.run("lock", "x.py", "--wait=60", agent="bob")
    assert time.monotonic() - started < 15, "the cycle must be refused, not waited out"
    assert refused.code == 3 and "deadlock" in refused.err, refused
    assert "alice" in refused.err and "x.py" in refused.err and "y.py" in refused.err, refused
    repo.ok("unlock", "y.py", agent="bob")
    out, err = alice_waits.communicate(timeout=30)
    assert alice_waits.returncode == 0 and b"locked y.py" in out, err.decode()


def test_deadlock_through_the_queue_is_refused(repo):
    """bob queues for `x y` behind alice's x; alice then waiting for y would wait behind bob."""
    repo.ok("lock", "x.py", agent="alice")
    bob_waits = spawn(repo, "lock", "x.py", "y.py", "--wait=30", agent="bob")
    wait_until(lambda: queued(repo) == 1, what="bob to queue")
    started = time.monotonic()
    refused = repo.run("lock", "y.py", "--wait=60", agent="alice")
    assert time.monotonic() - started < 15, "the cycle must be refused, not waited out"
    assert refused.code == 3 and "deadlock" in refused.err and "place in the queue" in refused.err, refused
    repo.ok("unlock", "x.py", agent="alice")
    _out, err = bob_waits.communicate(timeout=30)
    assert bob_waits.returncode == 0, err.decode()


# ---------------------------------------------------------------------------
# Leases: fencing tokens, renew, --mine


def test_fencing_tokens_only_grow(repo):
    tokens = [token_of(repo.ok("lock", "f.py", agent="alice").out)]
    repo.ok("unlock", "f.py", agent="alice")
    tokens.append(token_of(repo.ok("lock", "f.py", agent="bob").out))
    repo.ok("unlock", "f.py", agent="bob")
    tokens.append(token_of(repo.ok("lock", "--shared", "f.py", agent="alice").out))
    tokens.append(token_of(repo.ok("lock", "--shared", "f.py", agent="bob").out))
    shown = sorted(lk["token"] for lk in locks_by_path(repo)["f.py"])
    assert shown == tokens[-2:]
    assert re.search(rf"f\.py -> alice shared \(token {tokens[2]},", repo.ok("locks", agent="bob").out)
    repo.ok("unlock", "f.py", agent="alice")
    repo.ok("unlock", "f.py", agent="bob")
    tokens.append(token_of(repo.ok("lock", "f.py", "--ttl", "1s", agent="alice").out))
    time.sleep(1.2)
    repo.ok("gc", agent="bob")  # the expired lock row is gone; its counter is not
    tokens.append(token_of(repo.ok("lock", "f.py", agent="bob").out))
    # A stale owner's lock is taken over, and the new lock still gets a larger token.
    time.sleep(1.1)
    tokens.append(token_of(repo.ok("lock", "f.py", agent="alice", env={"AGENT_SYNC_STALE_AFTER": "1s"}).out))
    assert tokens == sorted(set(tokens)), tokens
    assert locks_by_path(repo)["f.py"][0]["owner"] == "alice"
    other = token_of(repo.ok("lock", "src/**", agent="bob").out)
    if STORE == "sqlite":  # SQLite counts per path
        assert tokens[0] == 1 and other == 1


def test_renew_named_pattern_locks_and_mine(repo):
    repo.ok("lock", "src/**", "docs/", "--ttl", "1m", agent="alice")
    repo.ok("lock", "other.py", agent="bob")
    out = repo.ok("renew", "src/**", "--ttl", "30m", agent="alice").out
    assert "src/**" in out and "docs/" not in out
    mine = {lk["path"]: lk for lk in repo.json("locks", "--mine", agent="alice")["locks"]}
    assert set(mine) == {"src/**", "docs/"}
    assert mine["src/**"]["expires_in"] > 1700 and mine["docs/"]["expires_in"] <= 60
    assert repo.run("renew", "other.py", agent="alice").code == 4  # bob's, not alice's


def test_edits_renew_the_covering_lock(repo):
    repo.ok("lock", "src/**", "--ttl", "10s", agent="alice")
    before = repo.json("locks", agent="alice")["locks"][0]["expires_at"]
    time.sleep(1.2)
    repo.hook("post-tool-use", {"tool_name": "Edit", "tool_input": {"file_path": "src/a/b.py"},
                                "cwd": str(repo.path)}, agent="alice")
    after = repo.json("locks", agent="alice")["locks"][0]["expires_at"]
    assert after > before, (before, after)


# ---------------------------------------------------------------------------
# Tasks and their files


def test_task_files_may_be_patterns_and_claim_lock_leases_them(repo):
    (repo.path / "docs").mkdir()
    repo.ok("create-task", "API", "--file", "src/api/**", "--file", "docs", "--file", "README.md", agent="lead")
    files = repo.json("tasks", agent="lead")["tasks"][0]["files"]
    assert files == ["README.md", "docs/", "src/api/**"]
    repo.ok("lock", "notes.txt", agent="alice")  # a lock of her own, not the task's
    repo.ok("claim-task", "1", "--lock", agent="alice")
    held = locks_by_path(repo)
    assert {p: (lks[0]["kind"], lks[0]["task_id"]) for p, lks in held.items()} == {
        "README.md": ("file", 1), "docs/": ("dir", 1), "src/api/**": ("glob", 1), "notes.txt": ("file", None)}
    assert hook_edit(repo, "src/api/v2/x.py", agent="bob").code == 2
    repo.ok("complete-task", "1", agent="alice")
    assert set(locks_by_path(repo)) == {"notes.txt"}  # exactly the task's leases went


def test_claim_lock_is_all_or_nothing(repo):
    repo.ok("create-task", "API", "--file", "src/api/**", "--file", "docs/", agent="lead")
    repo.ok("lock", "src/api/v1/routes.py", agent="bob")
    refused = repo.run("claim-task", "1", "--lock", agent="alice")
    assert refused.code == 3 and "src/api/** overlaps src/api/v1/routes.py" in refused.err, refused
    task = repo.json("tasks", agent="lead")["tasks"][0]
    assert task["status"] == "open" and task["owner"] is None
    assert set(locks_by_path(repo)) == {"src/api/v1/routes.py"}


@pytest.mark.parametrize("verb, extra", [("cancel-task", ()), ("block-task", ("--reason", "waiting on infra"))])
def test_cancel_and_block_release_the_task_leases(repo, verb, extra):
    repo.ok("create-task", "T", "--file", "t/**", agent="lead")
    repo.ok("lock", "mine.txt", agent="alice")
    repo.ok("claim-task", "1", "--lock", agent="alice")
    assert set(locks_by_path(repo)) == {"t/**", "mine.txt"}
    repo.ok(verb, "1", *extra, agent="alice")
    assert set(locks_by_path(repo)) == {"mine.txt"}


def test_claim_next_skips_overlapping_tasks_and_says_why(repo):
    repo.ok("create-task", "Big", "--file", "src/**", "--priority", "5", agent="lead")
    repo.ok("create-task", "Docs", "--file", "docs/*.md", "--priority", "1", agent="lead")
    repo.ok("lock", "src/core/engine.py", "--reason", "hotfix", agent="bob")
    result = repo.ok("claim-next", "--lock", "--verbose", agent="alice")
    assert "claimed #2 Docs" in result.out, result
    assert "#1 skipped" in result.err and "src/core/engine.py" in result.err and "bob" in result.err, result
    assert [lk["task_id"] for lk in locks_by_path(repo)["docs/*.md"]] == [2]
    assert repo.run("claim-next", agent="carol").code == 4  # #1 still overlaps bob's lock
    repo.ok("unlock", "src/core/engine.py", agent="bob")
    assert "claimed #1 Big" in repo.ok("claim-next", "--lock", agent="carol").out
    assert locks_by_path(repo)["src/**"][0]["owner"] == "carol"
