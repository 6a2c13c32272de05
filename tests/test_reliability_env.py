"""A broken environment: corrupt, read-only, full or too-new databases give one clear error, never a traceback.

The original file is never modified, and hooks still fail open (exit 0 with
a note on stderr). Tests run as root, where chmod stops nothing, so the
read-only directory is a read-only bind mount and the full disk a tiny tmpfs,
both inside a private mount namespace (`unshare -m`); without unshare those
two cases are skipped, and say so.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from conftest import PYZ, ROOT, clean_env

sys.path.insert(0, str(ROOT))
from agent_sync.core import schema

EDIT_LOCKED = {"session_id": "intruder", "tool_name": "Edit", "tool_input": {"file_path": "src/held.py"}}
HOOKS = {
    "session-start": {"session_id": "intruder", "source": "startup"},
    "user-prompt-submit": {"session_id": "intruder", "prompt": "hi"},
    "pre-tool-use": EDIT_LOCKED,
    "post-tool-use": EDIT_LOCKED,
    "stop": {"session_id": "intruder", "stop_hook_active": False},
    "session-end": {"session_id": "intruder", "reason": "other"},
}
WRITES = (["log", "--type", "note", "--message", "x"], ["lock", "src/other.py"],
          ["send", "--to", "all", "--message", "x"], ["create-task", "t"], ["register", "--name", "newcomer"])
READS = (["status"], ["locks"], ["tasks"], ["inbox", "--all"], ["status", "--compact"])


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def team(repo):
    """A small working database: an agent, a lock, a task, a message."""
    (repo.path / "src").mkdir()
    repo.ok("register", "--name", "owner", agent="owner")
    repo.ok("lock", "src/held.py", "--reason", "mine", agent="owner")
    repo.ok("create-task", "a task", agent="owner")
    repo.ok("send", "--to", "all", "--message", "hello", agent="owner")
    return repo


def one_clear_line(result, code, *words):
    assert result.code == code, result
    assert "Traceback" not in result.err and "internal error" not in result.err, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agent-sync:"), result
    assert all(w.lower() in lines[0].lower() for w in words), (words, lines[0])


def hook_ok(event, result, note=True):
    """Exit 0 with a fail-open note; pre-tool-use may instead still answer (it only reads): a real block."""
    assert "Traceback" not in result.err and "internal error" not in result.err, (event, result)
    if event == "pre-tool-use" and result.code == 2:
        assert result.err.startswith("[agent-sync] BLOCKED: src/held.py is locked by owner"), result
        return
    assert result.code == 0, (event, result)
    if note and event in ("session-start", "post-tool-use", "session-end"):
        assert "(allowed; nothing was blocked)" in result.err, (event, result)


def hooks_fail_open(repo):
    for event, payload in HOOKS.items():
        hook_ok(event, repo.hook(event, payload))


# ---------------------------------------------------------------------------
# Damaged files


def random_bytes(db, good):
    db.write_bytes(os.urandom(len(good)))


def text_file(db, good):
    db.write_text("# notes\nthis is not a database\n")


def truncated(db, good):
    db.write_bytes(good[: len(good) * 3 // 5 // 4096 * 4096])


def header_only(db, good):
    db.write_bytes(good[:100])


@pytest.mark.parametrize("damage", [random_bytes, text_file, truncated, header_only])
def test_damaged_database_is_a_clear_error_and_is_never_touched(team, damage):
    conn = sqlite3.connect(str(team.db), isolation_level=None)
    conn.executemany("INSERT INTO activity (agent, type, message, created_at) VALUES ('owner', 'note', ?, 0)",
                     [(f"entry {n} " + "x" * 400,) for n in range(60)])  # enough pages that a cut loses data
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    good = team.db.read_bytes()
    damage(team.db, good)
    before = digest(team.db)
    for argv in READS + WRITES:
        one_clear_line(team.run(*argv, agent="owner"), 7, str(team.db))
    assert "doctor --repair" in team.run("status", agent="owner").err
    hooks_fail_open(team)
    assert digest(team.db) == before
    leftovers = {p.name for p in team.db.parent.iterdir()} - {"state.sqlite", "locks.idx", "mail.seq", "local-id",
                                                              "state.sqlite-wal", "state.sqlite-shm", "seen"}
    assert not leftovers, leftovers


def test_newer_schema_version_is_refused_without_touching_it(team):
    conn = sqlite3.connect(str(team.db), isolation_level=None)
    conn.execute("PRAGMA user_version = 999")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = digest(team.db)
    for argv in READS + WRITES:
        one_clear_line(team.run(*argv, agent="owner"), 7, "schema version 999", "upgrade agent-sync")
    hooks_fail_open(team)
    assert digest(team.db) == before
    with sqlite3.connect(str(team.db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 999
        assert conn.execute("SELECT COUNT(*) FROM locks").fetchone()[0] == 1
    assert schema.CURRENT < 999


def test_empty_file_becomes_a_database(team):
    """A zero-byte file holds nothing to lose: SQLite treats it as a new database."""
    for p in team.db.parent.glob("state.sqlite*"):
        p.unlink()
    team.db.write_bytes(b"")
    team.ok("log", "--type", "note", "--message", "fresh", agent="owner")


# ---------------------------------------------------------------------------
# Read-only directory and full disk, inside a private mount namespace

DRIVER = textwrap.dedent("""
    import json, subprocess, sys
    plan = json.load(sys.stdin)
    for step in plan["setup"]:
        subprocess.run(step["argv"], check=step.get("check", True), capture_output=True)
    results = []
    for job in plan["jobs"]:
        proc = subprocess.run(job["argv"], check=False, input=job.get("input", "").encode(), cwd=plan["cwd"],
                              env=dict(plan["env"], **job.get("env", {})), capture_output=True, timeout=120)
        results.append({"code": proc.returncode, "out": proc.stdout.decode("utf-8", "replace"),
                        "err": proc.stderr.decode("utf-8", "replace")})
    json.dump(results, sys.stdout)
""")

# Inside the namespace: a digest and an integrity verdict of the database, as JSON on stdout.
INSPECT = textwrap.dedent("""
    import hashlib, json, sqlite3, sys
    data = open(sys.argv[1], "rb").read()
    conn = sqlite3.connect(sys.argv[1])
    verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    rows = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("messages", "locks", "activity")}
    print(json.dumps({"sha": hashlib.sha256(data).hexdigest(), "integrity": verdict, "rows": rows}))
""")


def unshare_works():
    if not shutil.which("unshare") or not shutil.which("mount"):
        return False
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "mount", "-t", "tmpfs", "-o", "size=64k",
                            "tmpfs", "/mnt"], check=False, capture_output=True)
    return probe.returncode == 0


needs_namespace = pytest.mark.skipif(not unshare_works(), reason="needs `unshare -m` and mount (CAP_SYS_ADMIN): "
                                     "as root, chmod cannot make a directory read-only or a disk full")


class Namespace:
    """Runs a plan of commands in a private mount namespace over the repo."""

    def __init__(self, repo):
        self.repo = repo
        self.setup = []
        self.jobs = []

    def step(self, *argv, check=True):
        self.setup.append({"argv": list(map(str, argv)), "check": check})

    def cli(self, *argv, agent="owner"):
        self.jobs.append({"argv": [sys.executable, str(PYZ), *argv], "env": {"AGENT_SYNC_ID": agent} if agent else {}})

    def hook(self, event, payload):
        self.jobs.append({"argv": [sys.executable, str(PYZ), "hook", event], "input": json.dumps(payload)})

    def inspect(self):
        self.jobs.append({"argv": [sys.executable, "-c", INSPECT, str(self.repo.db)]})

    def shell(self, script):
        self.jobs.append({"argv": ["sh", "-c", script]})

    def run(self):
        plan = {"setup": self.setup, "jobs": self.jobs, "cwd": str(self.repo.path), "env": clean_env(self.repo.home)}
        proc = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", DRIVER], check=False,
                              input=json.dumps(plan).encode(), capture_output=True, timeout=600)
        assert proc.returncode == 0, proc.stderr.decode()
        return [Outcome(r) for r in json.loads(proc.stdout)]


class Outcome:
    def __init__(self, doc):
        self.code, self.out, self.err = doc["code"], doc["out"], doc["err"]

    def __repr__(self):
        return f"Outcome(code={self.code}, out={self.out[:300]!r}, err={self.err[:300]!r})"


@needs_namespace
def test_read_only_coordination_directory(team):
    state = team.db.parent
    before = digest(team.db)
    ns = Namespace(team)
    ns.step("mount", "--bind", state, state)
    ns.step("mount", "-o", "remount,bind,ro", state)
    for argv in READS + WRITES:
        ns.cli(*argv)
    for event, payload in HOOKS.items():
        ns.hook(event, payload)
    ns.shell(f"touch {state}/probe")  # proof the mount really is read-only
    outcomes = ns.run()
    clis, hooks, probe = outcomes[:len(READS + WRITES)], outcomes[len(READS + WRITES):-1], outcomes[-1]
    assert probe.code != 0 and "Read-only file system" in probe.err, probe
    for result in clis:
        one_clear_line(result, 7, str(team.db))
        assert "read-only" in result.err or "permissions" in result.err, result
    for (event, _payload), result in zip(HOOKS.items(), hooks):
        hook_ok(event, result)
    assert digest(team.db) == before
    team.ok("log", "--type", "note", "--message", "writable again", agent="owner")  # outside the namespace


@needs_namespace
def test_full_disk(team, tmp_path):
    state = team.db.parent
    saved = tmp_path / "saved-state"
    shutil.copytree(state, saved)
    ns = Namespace(team)
    ns.step("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", state)
    ns.step("cp", "-a", f"{saved}/.", state)
    # 1. The disk fills up while agents keep sending: every acknowledged message survives.
    ns.step("dd", "if=/dev/zero", f"of={state}/filler", "bs=4k", "count=150", check=False)
    big = "y" * 15000
    for n in range(30):
        ns.cli("send", "--to", "all", "--message", f"{n} {big}")
    ns.inspect()
    # 2. Completely full: writes and reads fail clearly, hooks fail open, the file is untouched.
    ns.shell(f"dd if=/dev/zero of={state}/filler2 bs=4k 2>/dev/null; true")
    ns.inspect()
    for argv in WRITES:
        ns.cli(*argv)
    for event, payload in HOOKS.items():
        ns.hook(event, payload)
    ns.inspect()
    # 3. Space comes back: everything works again, nothing lost.
    ns.shell(f"rm -f {state}/filler {state}/filler2")
    ns.cli("log", "--type", "note", "--message", "after the disk was freed")
    ns.cli("inbox", "--json", agent="reader")
    ns.inspect()
    ns.shell(f"ls {state}")
    outcomes = ns.run()
    sends, outcomes = outcomes[:30], outcomes[30:]
    filling = json.loads(outcomes[0].out)
    acknowledged = sum(1 for r in sends if r.code == 0)
    refused = [r for r in sends if r.code != 0]
    assert refused, "the disk never filled up: make the tmpfs smaller"
    for result in refused:
        one_clear_line(result, 7, "no space left")
    assert filling["integrity"] == "ok"
    assert filling["rows"]["messages"] == 1 + acknowledged  # the fixture's hello, and every acknowledged send
    full_before = json.loads(outcomes[2].out)
    writes = outcomes[3:3 + len(WRITES)]
    hooks = outcomes[3 + len(WRITES):3 + len(WRITES) + len(HOOKS)]
    full_after = json.loads(outcomes[3 + len(WRITES) + len(HOOKS)].out)
    for result in writes:
        one_clear_line(result, 7, "no space left")
    for (event, _payload), result in zip(HOOKS.items(), hooks):
        hook_ok(event, result)
    assert full_after["sha"] == full_before["sha"] and full_after["integrity"] == "ok"
    log_after, inbox_after, final, listing = outcomes[-4], outcomes[-3], json.loads(outcomes[-2].out), outcomes[-1]
    assert ".tmp" not in listing.out, listing  # no partial files left behind by failed writes
    assert log_after.code == 0, log_after
    assert inbox_after.code == 0, inbox_after
    assert final["integrity"] == "ok" and final["rows"]["messages"] == 1 + acknowledged
    print(f"full disk: {acknowledged} of 30 large sends acknowledged before the disk filled, "
          f"{len(refused)} refused with 'no space left', integrity ok, nothing acknowledged lost")
