"""Bad numbers, bad durations and broken output: usage errors (exit 2) or quiet exits, never exit 1, 7 or -32603.

Black-box: the built archive in real processes.
"""

import json
import os
import subprocess
import sys

import pytest
from conftest import PYZ, clean_env

HUGE = str(2 ** 63)  # one past what SQLite stores
HUGER = "9" * 30


@pytest.mark.parametrize("args", [
    ["create-task", "t", "--priority", HUGE],
    ["create-task", "t", "--priority", "-" + HUGER],
    ["create-task", "t", "--priority", "1_0"],
    ["create-task", "t", "--priority", "١٢"],
    ["create-task", "t", "--priority", " 3"],
    ["claim-task", HUGE], ["claim-task", "#" + HUGER], ["complete-task", HUGER],
    ["read-message", HUGE], ["ack", HUGER], ["read-message", "#" + HUGE],
    ["send", "--to", "all", "--message", "m", "--reply-to", HUGE],
    ["send", "--to", "all", "--message", "m", "--reply-to", "0"],
    ["decisions", "--limit", HUGE], ["decisions", "--limit", "0"], ["decisions", "--limit=-1"],
    ["decisions", "--limit", "1_0"],
    ["watch", "--backlog", HUGER], ["watch", "--backlog", "-1"],
    ["lock", "a.py", "--ttl", ""], ["lock", "a.py", "--ttl", "0.001"], ["lock", "a.py", "--ttl", "1_0"],
    ["lock", "a.py", "--ttl", "١٢"], ["lock", "a.py", "--ttl", "1e3"], ["lock", "a.py", "--ttl", "inf"],
    ["lock", "a.py", "--ttl", " 5m"], ["lock", "a.py", "--ttl", HUGER],
    ["lock", "a.py", "--wait=1_0"], ["lock", "a.py", "--wait=٣"], ["renew", "--ttl", ""],
    ["claim-next", "--lock", "--ttl", "0.001"],
])
def test_bad_numbers_and_durations_are_usage_errors(repo, args):
    result = repo.run(*args, agent="ann")
    assert result.code == 2, result
    assert result.err.startswith("agent-sync: ") and result.err.count("\n") == 1, result


def test_good_numbers_still_work(repo):
    repo.ok("create-task", "t", "--priority", str(2 ** 63 - 1), agent="ann")
    repo.ok("create-task", "u", "--priority", str(-(2 ** 63)), agent="ann")
    assert [t["priority"] for t in repo.json("tasks", agent="ann")["tasks"]] in ([2 ** 63 - 1, -(2 ** 63)],
                                                                                  [-(2 ** 63), 2 ** 63 - 1])
    repo.ok("lock", "a.py", "--ttl", "1.5h", agent="ann")
    repo.ok("decisions", "--limit", "1", agent="ann")


def mcp(repo, *calls):
    lines = [{"jsonrpc": "2.0", "id": 0, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
             {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    lines += [{"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
              for i, (name, arguments) in enumerate(calls, 1)]
    proc = subprocess.run([sys.executable, str(PYZ), "mcp"], input="".join(json.dumps(x) + "\n" for x in lines).encode(),
                          cwd=str(repo.path), env=clean_env(repo.home, AGENT_SYNC_ID="ann"), capture_output=True,
                          timeout=60, check=False)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    return {r["id"]: r for r in map(json.loads, proc.stdout.decode().splitlines())}


def test_mcp_integers_beyond_64_bits_are_invalid_params_never_internal_errors(repo):
    calls = [("create_task", {"title": "t", "priority": 2 ** 63}), ("create_task", {"title": "t", "priority": -(2 ** 70)}),
             ("claim_task", {"task": 2 ** 63}), ("claim_task", {"task": HUGER}), ("read_message", {"id": 2 ** 64}),
             ("read_message", {"id": "#" + HUGER}), ("send", {"to": "all", "message": "m", "reply_to": 2 ** 63}),
             ("lock", {"paths": ["a.py"], "ttl": "1_0"}), ("lock", {"paths": ["a.py"], "ttl": "0.001"}),
             ("lock", {"paths": ["a.py"], "ttl": ""})]
    replies = mcp(repo, *calls)
    for i, call in enumerate(calls, 1):
        reply = replies[i]
        assert "error" not in reply, (call, reply)  # never -32603
        assert reply["result"]["isError"] is True, (call, reply)
        text = reply["result"]["content"][0]["text"]
        assert "internal" not in text.lower(), (call, text)


def test_a_closed_stdout_exits_quietly(repo):
    for n in range(60):
        repo.ok("create-task", f"task number {n} " + "x" * 150, "--description", "y" * 500, agent="ann")
    for args in (["status"], ["tasks"], ["tasks", "--json"], ["locks"], ["decisions"]):
        proc = subprocess.Popen([sys.executable, str(PYZ), *args], cwd=str(repo.path), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=clean_env(repo.home, AGENT_SYNC_ID="ann"))
        proc.stdout.read(1)
        proc.stdout.close()  # `| head -c 1`
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 0 and err == "", (args, err)


def test_a_full_disk_on_stdout_is_exit_9_not_storage(repo):  # /dev/full: Linux, where these tests run
    repo.ok("create-task", "t", agent="ann")
    for args in (["status"], ["tasks", "--json"], ["whoami"]):
        with open("/dev/full", "wb") as full:
            proc = subprocess.run([sys.executable, str(PYZ), *args], cwd=str(repo.path), stdout=full,
                                  stderr=subprocess.PIPE, env=clean_env(repo.home, AGENT_SYNC_ID="ann"), timeout=60)
        err = proc.stderr.decode()
        assert proc.returncode == 9 and err.count("\n") == 1 and "standard output" in err, (args, err)


def run_in(folder, home, *args, **env):
    proc = subprocess.run([sys.executable, str(PYZ), *args], cwd=str(folder), capture_output=True, text=True,
                          env=clean_env(home, **env), timeout=60, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def everything(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("command", [["status"], ["tasks"], ["locks"], ["agents"], ["inbox"], ["decisions"],
                                     ["whoami"], ["status", "--json"]])
def test_read_commands_outside_any_repository_create_nothing_and_say_so(tmp_path, command):
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = run_in(plain, tmp_path, *command, AGENT_SYNC_ID="ann")
    assert proc.returncode == 4 and "nothing here" in proc.stderr and proc.stderr.count("\n") == 1, proc
    assert everything(plain) == [] and not (tmp_path / ".claude").exists()


def test_a_writing_command_outside_a_repository_keeps_its_state_in_that_folder(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert run_in(plain, tmp_path, "lock", "a.txt", AGENT_SYNC_ID="ann").returncode == 0
    assert (plain / ".claude" / "coordination" / "state.sqlite").is_file()
    assert run_in(plain, tmp_path, "locks", AGENT_SYNC_ID="bob").returncode == 0  # now there is state to read


@pytest.mark.parametrize("command", [["status"], ["lock", "a.txt"], ["create-task", "t"], ["init"]])
def test_agent_sync_root_naming_a_missing_folder_creates_nothing(repo, tmp_path, command):
    missing = tmp_path / "no" / "such" / "root"
    proc = run_in(repo.path, repo.home, *command, AGENT_SYNC_ID="ann", AGENT_SYNC_ROOT=str(missing))
    assert proc.returncode == 2 and "AGENT_SYNC_ROOT" in proc.stderr and proc.stderr.count("\n") == 1, proc
    assert not (tmp_path / "no").exists() and not (repo.path / ".claude").exists()


def test_a_hook_with_agent_sync_root_missing_fails_open_and_creates_nothing(repo, tmp_path):
    missing = tmp_path / "gone"
    payload = json.dumps({"tool_name": "Edit", "tool_input": {"file_path": str(repo.path / "a.py")}})
    result = repo.run("hook", "pre-tool-use", input=payload, agent="ann", env={"AGENT_SYNC_ROOT": str(missing)})
    assert result.code == 0 and not missing.exists(), result  # no state there: nothing to enforce, nothing made


def test_paths_are_capped_in_length_and_number(repo):
    long = repo.run("lock", "a" * 4097, agent="ann")
    assert long.code == 2 and "limit is 4096" in long.err, long
    assert repo.run("lock", "é" * 2049, agent="ann").code == 2  # bytes, not characters
    many = repo.run("lock", *[f"f{n}.py" for n in range(257)], agent="ann")
    assert many.code == 2 and "limit is 256" in many.err, many
    assert not repo.db.exists() or repo.json("locks", agent="ann")["locks"] == []
    repo.ok("lock", *[f"f{n}.py" for n in range(256)], agent="ann")
    repo.ok("lock", "b" * 4000, agent="ann")


def test_mcp_paths_are_capped_too(repo):
    replies = mcp(repo, ("lock", {"paths": ["a" * 5000]}), ("lock", {"paths": [f"f{n}" for n in range(300)]}))
    assert "limit is 4096" in replies[1]["result"]["content"][0]["text"]
    assert "limit is 256" in replies[2]["result"]["content"][0]["text"]


# ---------------------------------------------------------------------------
# Small promises the README makes

def test_lock_dot_is_the_whole_repository_only_when_said(repo):
    refused = repo.run("lock", ".", agent="ann")
    assert refused.code == 2 and "--whole-repo" in refused.err, refused
    (repo.path / "src").mkdir()
    assert repo.run("lock", "..", agent="ann", cwd=repo.path / "src").code == 2
    repo.ok("lock", ".", "--whole-repo", agent="ann")
    repo.ok("lock", "src/x.py", agent="ann")  # your own whole-repo lock does not block you
    assert repo.run("lock", "src/y.py", agent="bob").code == 3


def test_an_expired_lock_says_expired_not_expires_in_0s(repo):
    repo.ok("lock", "a.py", "--ttl", "1s", agent="ann")
    import time

    time.sleep(1.3)
    out = repo.ok("locks", "--all", agent="ann").out
    assert "expired, not enforced" in out and "expires in 0s" not in out and "owner active" not in out, out


@pytest.mark.parametrize("argv", [["hook", "pre-tool-use", "--help"], ["hook", "--agent", "codex", "PreToolUse", "-h"],
                                  ["hook", "--help"]])
def test_hook_help_prints_the_usage(repo, argv):
    result = repo.run(*argv)
    assert result.code == 0 and result.out.startswith("usage: agent-sync hook"), result


@pytest.mark.parametrize("command", [["claim-task", "1", "--ttl", "5m"], ["claim-next", "--ttl", "5m"]])
def test_claim_ttl_without_lock_is_refused_not_ignored(repo, command):
    repo.ok("create-task", "t", agent="ann")
    result = repo.run(*command, agent="ann")
    assert result.code == 2 and "--lock" in result.err, result
    assert repo.json("tasks", agent="ann")["tasks"][0]["status"] == "open"  # nothing was claimed


@pytest.mark.parametrize("raw,why", [(b"", "empty"), (b'{"tool_name": "Edit", "tool_in', "not a JSON object"),
                                     (b"[1, 2]", "not a JSON object"), (b"\xff\xfe garbage", "not a JSON object"),
                                     (b"null", "not a JSON object")])
@pytest.mark.parametrize("event", ["pre-tool-use", "post-tool-use", "session-start", "user-prompt-submit", "stop"])
def test_unreadable_hook_input_gets_its_one_line_note(repo, raw, why, event):
    result = repo.hook(event, raw, agent="ann")
    assert result.code == 0 and result.out == "", result
    lines = result.err.splitlines()
    assert len(lines) == 1 and why in lines[0] and "nothing was checked" in lines[0], result


def test_watch_notices_a_replaced_database_and_reads_the_new_one(repo):
    import sqlite3
    import time

    repo.ok("log", "--type", "note", "--message", "before-swap", agent="ann")
    watcher = subprocess.Popen([sys.executable, str(PYZ), "watch", "--interval", "0.1", "--backlog", "5"],
                               cwd=str(repo.path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=clean_env(repo.home, AGENT_SYNC_ID="ann"))
    try:
        time.sleep(1.5)
        # What doctor --repair does: a new file takes the old one's name; its WAL and shm go too.
        fresh = repo.db.with_name("fresh.sqlite")
        src = sqlite3.connect(str(repo.db))
        src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        dst = sqlite3.connect(str(fresh))
        src.backup(dst)
        src.close()
        dst.close()
        os.replace(fresh, repo.db)
        for side in ("-wal", "-shm"):
            if os.path.exists(str(repo.db) + side):
                os.unlink(str(repo.db) + side)
        repo.ok("log", "--type", "note", "--message", "after-swap", agent="bob")
        time.sleep(2)
    finally:
        watcher.terminate()
        out, err = watcher.communicate(timeout=30)
    assert "before-swap" in out.decode() and "after-swap" in out.decode(), (out, err)
    assert "was replaced" in err.decode(), err
