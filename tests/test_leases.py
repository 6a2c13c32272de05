"""Automatic leases (issue 17): an agent's edit holds the file for it, with no `lock`.

Black-box through the built archive: Claude Code sessions edit files through
the real pre- and post-tool hooks, exactly as Claude Code calls them, and
other sessions, the CLI and the console's data see the lease.
"""

import calendar
import json
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import PYZ, clean_env

from agent_sync.core import schema
from agent_sync.core.identity import session_agent_id
from test_hooks_contract import (ALICE, BOB, CAROL, Session, assert_blocked, assert_framed, assert_silent,
                                 context_of, payload, write_file)

LEASED = "src/app.py"
OFF = {"AGENT_SYNC_AUTO_LEASE": "off"}


@pytest.fixture
def team(repo):
    write_file(repo, LEASED)
    write_file(repo, "src/other.py")
    alice = Session(repo, ALICE, "alice", "backend")
    bob = Session(repo, BOB, "bob", "frontend")
    return repo, alice, bob


def target(repo, rel):
    return {"file_path": str(repo.path / rel)}


def pre(session, rel=LEASED, env=None, fixture="pre_tool_use_edit", **top):
    return session.hook("pre-tool-use", fixture, env=env, tool_input=target(session.repo, rel), **top)


def post(session, rel=LEASED, env=None, fixture="post_tool_use_edit", **top):
    return session.hook("post-tool-use", fixture, env=env, tool_input=target(session.repo, rel), **top)


def edit(session, rel=LEASED, env=None):
    """One allowed edit, as Claude Code runs it: pre-tool (must allow), the write, post-tool."""
    assert_silent(pre(session, rel, env=env))
    (session.repo.path / rel).write_text(f"edited by {session.id} at {time.time()}\n")
    assert_silent(post(session, rel, env=env))


def bash(session, command, event="pre-tool-use", env=None):
    fixture = "pre_tool_use_bash" if event == "pre-tool-use" else "post_tool_use_bash"
    return session.hook(event, fixture, env=env, tool_input={"command": command})


def leases(observer, env=None):
    return [lk for lk in observer.json("locks", env=env)["locks"] if lk["auto_lease"]]


def held_by(observer, rel=LEASED):
    return [(lk["owner"], lk["auto_lease"]) for lk in observer.json("locks")["locks"] if lk["path"] == rel]


# ---------------------------------------------------------------------------
# Taking a lease, and what the others are told


def test_an_edit_leases_the_file_and_another_agents_edit_is_refused(team):
    repo, alice, bob = team
    edit(alice)
    (lease,) = leases(bob)
    assert (lease["path"], lease["owner"], lease["owner_name"], lease["mode"]) == (LEASED, alice.id, "alice",
                                                                                   "exclusive")
    assert lease["enforced"] and lease["last_edit_at"] and 590 <= lease["expires_in"] <= 600, lease
    refused = pre(bob)
    assert_blocked(refused, "[agent-sync] BLOCKED", f"{LEASED} is under an automatic lease of alice [{alice.id}]",
                   "they last edited it", "the lease lapses in", "unless they edit it again")
    assert f" send --to {alice.id} --message " in refused.err
    # the shell tool is held the same way
    assert_blocked(bash(bob, f"echo x > {LEASED}"), "automatic lease of alice")
    # and `locks` says what it is
    assert "automatic lease (last edit" in bob.ok("locks").out


def test_the_ask_command_is_shell_quoted(team, tmp_path):
    repo, alice, bob = team
    rel = "src/it's $(touch pwned) `touch pwned2`.py"
    write_file(repo, rel)
    edit(alice, rel)
    refused = pre(bob, rel)
    assert refused.code == 2, refused
    line = next(x for x in refused.err.splitlines() if "Ask them: " in x)
    command = line.split("Ask them: ", 1)[1]
    command = "agent-sync" + command[command.index(" send --to "):]  # however agent-sync runs here (core.program)
    # run it through a real shell with the command replaced by printf: the words come back intact
    shown = subprocess.run(["sh", "-c", "printf '%s\\n' " + command[len("agent-sync "):]], cwd=str(tmp_path),
                           capture_output=True, text=True, check=True).stdout.splitlines()
    assert shown[:3] == ["send", "--to", alice.id] and shown[3] == "--message", shown
    assert shown[4] == f"I need to edit {rel}; tell me when you are done with it", shown
    assert not list(tmp_path.glob("pwned*")), "the quoted message ran a command"


def test_the_holders_further_edits_are_never_refused_and_renew_the_lease(team):
    repo, alice, bob = team
    edit(alice)
    (first,) = leases(alice)
    time.sleep(1.2)  # times have one-second resolution
    for _ in range(3):
        edit(alice)
    (renewed,) = leases(alice)
    assert renewed["token"] == first["token"], (first, renewed)  # the same lease, renewed
    assert renewed["last_edit_at"] > first["last_edit_at"] and renewed["expires_at"] > first["expires_at"]
    # renewals do not pile up in the hooks' lock index
    index = (repo.path / ".claude" / "coordination" / "locks.idx").read_text().splitlines()
    assert len([line for line in index if line.endswith("\t" + LEASED)]) == 1, index
    assert_blocked(pre(bob), "automatic lease of alice")


def test_a_subagent_shares_its_parents_lease(team):
    repo, alice, bob = team
    edit(alice)
    sub = dict(fixture="pre_tool_use_edit_subagent", agent_id="sub-1", agent_type="general-purpose")
    assert_silent(pre(alice, **sub))
    assert_silent(post(alice, agent_id="sub-1", agent_type="general-purpose"))
    assert held_by(bob) == [(alice.id, True)]
    # and what a subagent edits first is its parent's lease
    assert_silent(pre(alice, "src/other.py", **sub))
    assert_silent(post(alice, "src/other.py", agent_id="sub-2", agent_type="Explore"))
    assert held_by(bob, "src/other.py") == [(alice.id, True)]
    assert_silent(pre(alice, "src/other.py"))
    assert_blocked(pre(bob, "src/other.py"), "automatic lease of alice")


def test_an_edit_the_holder_already_locked_takes_no_lease(team):
    repo, alice, bob = team
    alice.ok("lock", "src/", "--reason", "api work")
    edit(alice)
    assert leases(bob) == []
    assert_blocked(pre(bob), "api work")


def test_an_edit_that_raced_the_holders_is_told_who_holds_the_file(team):
    repo, alice, bob = team
    # both gates passed before either edit was recorded; alice's post-tool ran first
    assert_silent(pre(alice))
    assert_silent(pre(bob))
    assert_silent(post(alice))
    told = context_of(post(bob), "PostToolUse")
    assert_framed(told)
    assert "Your edit went through, but another agent holds the file" in told, told
    assert f"automatic lease of alice [{alice.id}]" in told and "Ask them: " in told and " send --to " in told, told
    assert held_by(bob) == [(alice.id, True)]


# ---------------------------------------------------------------------------
# Release


def test_session_end_releases_the_leases_but_not_the_locks(team):
    repo, alice, bob = team
    alice.ok("lock", "src/other.py")
    edit(alice)
    assert_silent(alice.hook("session-end", "session_end"))
    assert [lk["path"] for lk in bob.json("locks")["locks"]] == ["src/other.py"]
    edit(bob)
    assert held_by(bob) == [(bob.id, True)]
    assert "released 1 automatic lease(s): session ended" in bob.ok("status").out


def test_the_lease_lapses_after_the_idle_time(team):
    repo, alice, bob = team
    short = {"AGENT_SYNC_AUTO_LEASE": "6s"}  # long enough for the next two calls on a loaded machine
    edit(alice, env=short)
    (lease,) = leases(bob)
    assert lease["expires_in"] <= 6, lease
    assert_blocked(pre(bob), "automatic lease of alice")
    lapses = calendar.timegm(time.strptime(lease["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
    time.sleep(max(0.0, lapses - time.time()) + 1.1)
    assert leases(bob) == []
    edit(bob)
    assert held_by(bob) == [(bob.id, True)]


def test_unlock_by_the_holder_releases_the_lease(team):
    repo, alice, bob = team
    edit(alice)
    edit(alice, "src/other.py")
    assert alice.ok("unlock", LEASED).out.strip() == f"unlocked {LEASED}"
    assert_silent(pre(bob))
    alice.ok("unlock", "src/")  # a directory releases the leases inside it
    assert leases(bob) == []
    assert_silent(pre(bob, "src/other.py"))
    # someone else's unlock without --force is refused, like a lock
    edit(bob)
    assert alice.run("unlock", LEASED).code == 3


@pytest.mark.parametrize("finish", [["complete-task", "#1"], ["block-task", "#1", "--reason", "waiting"],
                                    ["cancel-task", "#1"]])
def test_finishing_the_task_releases_its_leases(team, finish):
    repo, alice, bob = team
    alice.ok("create-task", "login", "--file", "src/")
    alice.ok("claim-task", "#1")
    edit(alice)
    bob.ok("create-task", "other work")
    bob.ok("claim-task", "#2")
    edit(bob, "src/other.py")
    (lease,) = [lk for lk in leases(bob) if lk["owner"] == alice.id]
    assert lease["task_id"] == 1, lease
    alice.ok(*finish)
    assert [lk["path"] for lk in leases(bob)] == ["src/other.py"]  # bob's task goes on, and so does his lease
    assert_silent(pre(bob))


def test_a_stale_holder_holds_nothing_and_the_next_editor_takes_over(team):
    repo, alice, bob = team
    edit(alice)
    time.sleep(1.5)
    stale = {"AGENT_SYNC_STALE_AFTER": "1s"}
    (lease,) = leases(bob, env=stale)
    assert lease["enforced"] is False and lease["owner_status"] == "stale", lease
    edit(bob, env=stale)
    assert held_by(bob) == [(bob.id, True)]


# ---------------------------------------------------------------------------
# Explicit locks, force, the queue


def test_a_lock_by_the_holder_turns_the_lease_into_a_lock(team):
    repo, alice, bob = team
    edit(alice)
    (lease,) = leases(alice)
    alice.ok("lock", LEASED, "--reason", "keeping it")
    (lock,) = alice.json("locks")["locks"]
    assert lock["auto_lease"] is False and lock["reason"] == "keeping it" and lock["token"] == lease["token"]
    assert lock["expires_in"] > 3000, lock
    assert_silent(alice.hook("session-end", "session_end"))
    assert held_by(bob) == [(alice.id, False)]  # a normal lock outlives the session
    assert_blocked(pre(bob), "keeping it")


def test_a_lock_by_another_agent_is_refused_and_force_breaks_the_lease(team):
    repo, alice, bob = team
    edit(alice)
    refused = bob.run("lock", LEASED)
    assert refused.code == 3 and f"automatic lease of alice [{alice.id}]" in refused.err, refused
    assert refused.err.startswith("agent-sync: ") and len(refused.err.splitlines()) == 1, refused
    assert bob.run("lock", "src/", "--reason", "everything").code == 3  # a directory over it, too
    bob.ok("unlock", "--force", LEASED)
    assert "broke" in bob.ok("status").out
    bob.ok("lock", LEASED)
    assert held_by(bob) == [(bob.id, False)]
    assert_blocked(pre(alice), LEASED)


def test_the_wait_queue_waits_for_a_lease_like_a_lock(team):
    repo, alice, bob = team
    edit(alice, env={"AGENT_SYNC_AUTO_LEASE": "6s"})
    assert bob.run("lock", LEASED).code == 3  # without --wait: refused
    bob.ok("lock", LEASED, "--wait", "30")  # with it: granted once the lease lapses
    assert held_by(bob) == [(bob.id, False)]


# ---------------------------------------------------------------------------
# Shell writes


def test_shell_writes_take_and_respect_leases(team):
    repo, alice, bob = team
    (repo.path / "build").mkdir()
    command = f"echo x > {LEASED} && sed -i s/x/y/ src/other.py && rm -rf build"
    assert_silent(bash(alice, command))
    assert_silent(bash(alice, command, event="post-tool-use"))
    assert sorted(lk["path"] for lk in leases(bob)) == [LEASED, "src/other.py"]  # files, not the directory
    assert_blocked(bash(bob, "tee -a src/other.py < /dev/null"), "automatic lease of alice")
    assert_blocked(bash(bob, "rm -rf src"), f"src/ covers {LEASED}, which is under an automatic lease of alice")
    assert_blocked(pre(bob), "automatic lease of alice")
    assert_silent(bash(alice, "mv src/other.py src/moved.py"))


# ---------------------------------------------------------------------------
# Off, and bad settings


def test_off_restores_todays_behaviour(team):
    repo, alice, bob = team
    edit(alice, env=OFF)
    edit(bob, env=OFF)
    assert alice.json("locks", env=OFF)["locks"] == []
    assert "Your automatic leases" not in alice.ok("status", "--compact", env=OFF).out


def test_an_agent_with_leases_off_neither_takes_nor_honours_them(team):
    repo, alice, bob = team
    edit(alice)
    edit(bob, env=OFF)  # bob's gate ignores alice's lease, and his post-tool says nothing
    assert held_by(bob) == [(alice.id, True)]
    bob.ok("lock", "src/other.py", env=OFF)
    bob.ok("lock", LEASED, env=OFF)  # an explicit lock over her lease: his setting ignores the lease
    assert_blocked(pre(alice), "is locked by bob")


def test_a_bad_setting_takes_the_default_with_one_note_in_the_cli_and_hooks(team):
    repo, alice, bob = team
    bad = {"AGENT_SYNC_AUTO_LEASE": "soon"}
    note = "agent-sync: AGENT_SYNC_AUTO_LEASE='soon' is not a valid duration (or `off`); using the default 10m"
    result = alice.run("locks", env=bad)
    assert result.code == 0 and result.err.strip().splitlines() == [note], result
    hooked = post(alice, env=bad)
    assert hooked.code == 0 and hooked.err.strip().splitlines() == [note], hooked
    assert held_by(bob) == [(alice.id, True)]  # the edit still took its lease, for the default time


# ---------------------------------------------------------------------------
# What agents and people see


def test_status_compact_tells_each_agent_what_it_holds_this_way(team):
    repo, alice, bob = team
    alice.ok("lock", "src/other.py")
    edit(alice)
    mine = alice.ok("status", "--compact").out
    assert "Your locks: src/other.py" in mine
    assert f"Your automatic leases (files you edited; others' edits are refused until they lapse): {LEASED} (" \
           in mine, mine
    theirs = bob.ok("status", "--compact").out
    assert f"{LEASED} by alice (editing)" in theirs and "Your automatic leases" not in theirs, theirs


def test_the_console_marks_automatic_leases(team):
    repo, alice, bob = team
    edit(alice)
    code = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[1])
        from agent_sync.core.context import Context
        from agent_sync.core import live_view
        from agent_sync.console import panes
        ctx = Context()
        for row in panes.lock_rows(live_view.take(ctx, board=False)["locks"], 100):
            print("".join(text for text, _style in row))
    """)
    shown = subprocess.run([sys.executable, "-c", code, str(PYZ)], cwd=str(repo.path), capture_output=True,
                           text=True, env=clean_env(repo.home, **repo.env, AGENT_SYNC_ID="viewer"), check=True).stdout
    assert LEASED in shown and "alice" in shown and "(auto lease)" in shown, shown


def test_an_old_database_is_migrated_and_its_locks_are_locks(repo):
    db = repo.path / ".claude" / "coordination" / "state.sqlite"
    db.parent.mkdir(parents=True)
    code = textwrap.dedent("""
        import sqlite3, sys, time
        sys.path.insert(0, sys.argv[1])
        from agent_sync.core import schema
        conn = sqlite3.connect(sys.argv[2])
        for statement in schema.MIGRATIONS[0][1]:  # the schema as version 1 shipped it
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        now = time.time()
        conn.execute("INSERT INTO agents (id, name, name_key, created_at, last_seen) VALUES"
                     " ('old', 'old', 'old', ?, ?)", (now, now))
        conn.execute("INSERT INTO locks (key, path, kind, owner, token, ttl, created_at, expires_at) VALUES"
                     " ('a.py', 'a.py', 'file', 'old', 1, 3600, ?, ?)", (now, now + 3600))
        conn.commit()
    """)
    subprocess.run([sys.executable, "-c", code, str(PYZ), str(db)], check=True)
    (lock,) = repo.json("locks", agent="viewer")["locks"]
    assert lock["owner"] == "old" and lock["auto_lease"] is False, lock
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS)


# ---------------------------------------------------------------------------
# Races of real processes

RACER = textwrap.dedent("""
    import io, json, os, sys, time
    pyz, ready, go, root, session, rel = sys.argv[1:7]
    sys.path.insert(0, pyz)
    from agent_sync.hooks import entry, handlers
    from agent_sync.core import context, db, leases, locks, agents, journal  # warm up
    open(ready, "w").close()
    deadline = time.time() + 60
    while not os.path.exists(go):
        if time.time() > deadline:
            sys.exit(99)
        time.sleep(0.001)

    def hook(event, name):
        data = {"session_id": session, "cwd": root, "hook_event_name": name, "tool_name": "Edit",
                "tool_input": {"file_path": os.path.join(root, rel)}}
        sys.stdin = io.TextIOWrapper(io.BytesIO(json.dumps(data).encode()))
        out, err = io.StringIO(), io.StringIO()
        sys.stdout, sys.stderr = out, err
        try:
            code = entry.run_hook([event])
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        return code, out.getvalue(), err.getvalue()

    result = {"pre": hook("pre-tool-use", "PreToolUse")}
    if result["pre"][0] == 0:
        with open(os.path.join(root, rel), "a") as handle:
            handle.write(session + "\\n")
        result["post"] = hook("post-tool-use", "PostToolUse")
    print(json.dumps(result))
""")


@pytest.fixture
def edit_race(repo, tmp_path):
    """edit_race(sessions) -> {session: {"pre": (code, out, err), "post": ...}}, all started on one signal."""
    racer = tmp_path / "racer.py"
    racer.write_text(RACER)
    counter = [0]

    def run(sessions, rel=LEASED):
        counter[0] += 1
        sync = tmp_path / f"sync-{counter[0]}"
        sync.mkdir()
        procs = [subprocess.Popen([sys.executable, str(racer), str(PYZ), str(sync / f"ready-{i}"), str(sync / "go"),
                                   str(repo.path), session, rel],
                                  cwd=str(repo.path), env=clean_env(repo.home, **repo.env), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for i, session in enumerate(sessions)]
        deadline = time.time() + 60
        while len(list(sync.glob("ready-*"))) < len(sessions):
            assert time.time() < deadline and all(p.poll() is None for p in procs), \
                [p.communicate() for p in procs if p.poll() is not None]
            time.sleep(0.01)
        (sync / "go").touch()
        results = {}
        for session, proc in zip(sessions, procs):
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0 and "Traceback" not in err, (out, err)
            results[session] = json.loads(out)
        return results

    return run


def _check_one_holder(repo, observer, results):
    """Exactly one lease holder; everyone else was refused, or told, naming the holder."""
    holders = [lk["owner"] for lk in observer.json("locks")["locks"] if lk["path"] == LEASED]
    assert len(holders) == 1, holders
    (holder,) = holders
    refused = told_after = 0
    for session, result in results.items():
        code, _out, err = result["pre"]
        me = session_agent_id(session)
        assert "database is locked" not in err and "agent-sync hook:" not in err, err
        if me == holder:
            assert code == 0 and result["post"] == [0, "", ""], result
        elif code == 2:
            assert f"[{holder}]" in err and "automatic lease" in err, err
            refused += 1
        else:
            told_after += 1
            assert code == 0, result
            post_code, post_out, post_err = result["post"]
            assert post_code == 0 and post_err == "", result
            told = json.loads(post_out)["hookSpecificOutput"]["additionalContext"]
            assert f"[{holder}]" in told and "Your edit went through" in told, told
    return holder, refused, told_after


@pytest.mark.parametrize("racers", [2, 12])
def test_agents_editing_one_unleased_file_at_once_give_one_holder(repo, edit_race, racers):
    write_file(repo, LEASED)
    sessions = [f"racer-session-{i:02d}" for i in range(racers)]
    observer = Session(repo, CAROL, "carol")
    rounds = 4 if racers == 2 else 3
    outcomes = []
    for _ in range(rounds):
        results = edit_race(sessions)
        holder, refused, told_after = _check_one_holder(repo, observer, results)
        outcomes.append(f"1 holder, {refused} refused at the gate, {told_after} told after racing")
        # the others' next edits are refused; the holder's session end frees the file for the next round
        for session in sessions:
            data = payload("pre_tool_use_edit", repo, tool_input=target(repo, LEASED), session_id=session)
            assert repo.hook("pre-tool-use", data).code == (0 if session_agent_id(session) == holder else 2)
        winner = next(s for s in sessions if session_agent_id(s) == holder)
        assert repo.hook("session-end", payload("session_end", repo, session_id=winner)).code == 0
        assert [lk for lk in observer.json("locks")["locks"] if lk["path"] == LEASED] == []
    print(f"edit race: {racers} agents x {rounds} rounds: {outcomes}")


# ---------------------------------------------------------------------------
# Every agent's post-tool hook takes the lease

POST_EDITS = [
    ("codex", "PostToolUse", "post_tool_use_apply_patch"),
    ("gemini", "AfterTool", "after_tool_write_file"),
    ("cursor", "afterFileEdit", "after_file_edit"),
    ("windsurf", "post_write_code", "post_write_code"),
    ("copilot", "postToolUse", "post_tool_use_edit"),
]


@pytest.mark.parametrize("agent,event,fixture", POST_EDITS, ids=[a for a, _, _ in POST_EDITS])
def test_every_agents_edit_takes_a_lease(repo, agent, event, fixture):
    import test_adapters

    write_file(repo, LEASED)
    repo.ok("init", agent="setup")  # as session start, or any command, does first
    data = test_adapters.payload(agent, fixture, repo)
    result = test_adapters.hook(repo, agent, event, data)
    assert result.code == 0 and "agent-sync hook:" not in result.err, result
    holder = test_adapters.agent_id(repo, agent, data)
    bob = Session(repo, BOB, "bob")
    assert held_by(bob) == [(holder, True)]
    assert_blocked(pre(bob), f"[{holder}]", "automatic lease")


def test_the_commit_guard_refuses_a_file_another_agent_is_editing(team):
    import test_guard

    repo, alice, bob = team
    (repo.path / ".gitignore").write_text(".claude/\n")
    assert test_guard.commit(repo, "README.md", message="initial").returncode == 0
    repo.ok("guard", "install")
    edit(alice)
    refused = test_guard.commit(repo, LEASED, message="bob's commit", env=bob.env())
    assert refused.returncode != 0, refused
    assert f"{LEASED}: locked by alice [{alice.id}]" in refused.stderr, refused.stderr
    assert "automatic lease: they edited it" in refused.stderr, refused.stderr
    assert test_guard.commit(repo, LEASED, message="alice's commit", env=alice.env()).returncode == 0
