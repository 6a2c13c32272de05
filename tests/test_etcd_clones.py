"""Two machines on one etcd: two clones of a repository, each with its own HOME, through the archive.

What one clone does must reach the other's hooks: a lock blocks the other's
edit within a second, a message reaches the other's prompt, claims and the
wait queue are decided by the engine for both. With the engine stopped,
commands fail in bounded time and hooks follow the documented fail-open rule.
"""

import subprocess
import sys
import time

from conftest import PYZ, clean_env
from etcd_clones import two_clones, wait_for
from etcd_fixtures import etcd  # noqa: F401

STAMP = (".claude", "coordination", "etcd.stamp")


def edit(repo, agent, rel="src/app.py"):
    payload = {"session_id": f"session-{agent}", "cwd": str(repo.path), "tool_name": "Edit",
               "tool_input": {"file_path": str(repo.path / rel), "old_string": "a", "new_string": "b"}}
    return repo.hook("pre-tool-use", payload, agent=agent)


def fresh_cache(repo):
    """Run one command (it starts the watcher) and wait until the watcher has confirmed the cache."""
    repo.ok("status")

    def confirmed():
        try:
            return time.time() - float(repo.path.joinpath(*STAMP).read_text().split()[1]) < 1.0
        except (OSError, ValueError, IndexError):
            return False
    assert wait_for(confirmed, timeout=10), "the watcher never confirmed the cache"


def test_a_lock_in_one_clone_blocks_the_other_clones_edit_within_a_second(tmp_path, etcd):  # noqa: F811
    with two_clones(tmp_path, etcd.url) as (a, b):
        fresh_cache(b)
        assert edit(b, "bob").code == 0  # nothing locked yet: allowed
        a.ok("lock", "src/app.py", "--reason", "refactor", agent="alice")
        locked_at = time.monotonic()
        blocked = wait_for(lambda: edit(b, "bob").code == 2, timeout=3, step=0.01)
        elapsed = time.monotonic() - locked_at
        assert blocked, "the other clone's hook never blocked"
        assert elapsed < 1.0 + 0.5, elapsed  # the window, plus one hook start-up on a loaded machine
        result = edit(b, "bob")
        assert "locked by alice" in result.err and "refactor" in result.err
        a.ok("unlock", "src/app.py", agent="alice")
        assert wait_for(lambda: edit(b, "bob").code == 0, timeout=3), "the release never reached the other clone"


def test_a_message_from_one_clone_is_pushed_by_the_other_clones_prompt_hook(tmp_path, etcd):  # noqa: F811
    with two_clones(tmp_path, etcd.url) as (a, b):
        fresh_cache(a)
        prompt = {"session_id": "session-alice", "cwd": str(a.path), "prompt": "go on"}
        assert "from bob" not in a.hook("user-prompt-submit", prompt, agent="alice").out
        b.ok("send", "--to", "alice", "--message", "please look at src/app.py", agent="bob")
        pushed = wait_for(lambda: a.hook("user-prompt-submit", prompt, agent="alice").out, timeout=3)
        assert "please look at src/app.py" in pushed and "bob" in pushed
        assert "please look" not in a.hook("user-prompt-submit", prompt, agent="alice").out  # exactly once


def test_claim_next_from_many_processes_in_both_clones_gives_distinct_tasks(tmp_path, etcd):  # noqa: F811
    with two_clones(tmp_path, etcd.url) as (a, b):
        for n in range(8):
            a.ok("create-task", f"task {n}")
        racers = []
        for n in range(8):
            repo = a if n % 2 else b
            env = clean_env(repo.home, AGENT_SYNC_ID=f"agent-{n}")
            racers.append(subprocess.Popen([sys.executable, str(PYZ), "claim-next"], cwd=repo.path, env=env,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outs = [(p.wait(60), *p.communicate()) for p in racers]
        assert all(code == 0 for code, _, _ in outs), outs
        claimed = [out.split("#", 1)[1].split()[0] for _, out, _ in outs]
        assert len(set(claimed)) == 8, claimed
        assert b.run("claim-next", agent="late").code == 4  # nothing left


def test_the_wait_queue_is_served_in_order_across_clones(tmp_path, etcd):  # noqa: F811
    with two_clones(tmp_path, etcd.url) as (a, b):
        a.ok("lock", "src/app.py", agent="holder")

        def waiter(repo, agent):
            env = clean_env(repo.home, AGENT_SYNC_ID=agent)
            return subprocess.Popen([sys.executable, str(PYZ), "lock", "src/app.py", "--wait", "30"], cwd=repo.path,
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = waiter(b, "first")
        time.sleep(1.0)
        second = waiter(a, "second")
        time.sleep(1.0)
        assert first.poll() is None and second.poll() is None  # both queued
        a.ok("unlock", "src/app.py", agent="holder")
        assert first.wait(20) == 0, first.communicate()
        time.sleep(1.0)
        assert second.poll() is None, "the second waiter jumped the queue"
        b.ok("unlock", "src/app.py", agent="first")
        assert second.wait(20) == 0, second.communicate()
        assert "second" in a.ok("locks").out


def test_engine_stopped_commands_fail_in_bounded_time_and_hooks_allow_with_a_note(tmp_path, etcd):  # noqa: F811
    with two_clones(tmp_path, etcd.url) as (a, b):
        fresh_cache(b)
        a.ok("lock", "src/other.py", agent="alice")
        etcd.stop(remove=False)
        started = time.monotonic()
        result = a.run("lock", "src/app.py", agent="alice", env={"AGENT_SYNC_BUSY_TIMEOUT": "2s"})
        elapsed = time.monotonic() - started
        assert result.code == 5, result
        assert result.err.startswith("agent-sync: ") and len(result.err.strip().splitlines()) == 1, result.err
        assert "etcd" in result.err
        assert elapsed < 2 + 2.5, elapsed
        time.sleep(1.2)
        stale = {"AGENT_SYNC_CACHE_STALE": "1s", "AGENT_SYNC_HOOK_BUSY_TIMEOUT": "1s"}
        started = time.monotonic()
        result = b.hook("pre-tool-use", {"session_id": "session-bob", "cwd": str(b.path), "tool_name": "Edit",
                                         "tool_input": {"file_path": str(b.path / "src/app.py")}},
                        agent="bob", env=stale)
        assert result.code == 0, result  # fail open, as with a busy database
        assert "lock cache" in result.err and "allowed" in result.err, result.err
        assert time.monotonic() - started < 1 + 2.5


def test_the_hook_allowed_path_imports_no_network_or_json_code(tmp_path, etcd):  # noqa: F811
    with two_clones(tmp_path, etcd.url, names=("a",)) as (a,):
        fresh_cache(a)
        a.ok("lock", "src/locked.py", agent="alice")
        payload = ('{"session_id": "s", "cwd": "%s", "tool_name": "Edit", "tool_input": {"file_path": "%s"}}'
                   % (a.path, a.path / "src" / "app.py"))
        proc = subprocess.run([sys.executable, "-X", "importtime", str(PYZ), "hook", "pre-tool-use"],
                              input=payload, capture_output=True, text=True, cwd=a.path,
                              env=clean_env(a.home, AGENT_SYNC_ID="bob"))
        assert proc.returncode == 0, proc.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
        assert "agent_sync.hooks.handlers" in imported  # the hook ran its check
        assert not {"http.client", "json", "socket", "ssl", "agent_sync.core.etcd.client"} & imported, imported


def test_the_session_start_hook_starts_the_watcher_and_a_fresh_cache_lets_edits_through_quietly(tmp_path, etcd):  # noqa: F811,E501
    with two_clones(tmp_path, etcd.url) as (a, b):
        pid_file = b.path / ".claude" / "coordination" / "etcd.watcher"
        assert not pid_file.exists()
        result = b.hook("session-start", {"session_id": "session-bob", "cwd": str(b.path), "source": "startup"},
                        agent="bob")
        assert result.code == 0, result
        assert wait_for(pid_file.exists, timeout=5), "no watcher started"
        a.ok("lock", "src/locked.py", agent="alice")
        assert wait_for(lambda: "src/locked.py" in (b.path / ".claude" / "coordination" / "locks.idx").read_text(),
                        timeout=3)
        allowed = edit(b, "bob")
        assert allowed.code == 0 and allowed.err == "", allowed  # fresh cache: no note, no engine round trip
        doc = b.json("remote", "status")
        assert doc["cache"]["watcher"] and doc["cache"]["age"] < 5 and doc["cache"]["lag"] is not None


def test_the_watcher_reads_everything_again_when_the_revision_it_resumes_from_is_compacted(tmp_path, etcd):  # noqa: F811,E501
    """A watcher cut off (its stream dropped) while the history it needs is compacted away catches up in full."""
    import os
    import signal

    with two_clones(tmp_path, etcd.url) as (a, b):
        fresh_cache(b)
        index = b.path / ".claude" / "coordination" / "locks.idx"
        a.ok("lock", "src/gone.py", agent="alice")
        assert wait_for(lambda: "src/gone.py" in index.read_text(), timeout=3)
        pid = int((b.path / ".claude" / "coordination" / "etcd.watcher").read_text())
        os.kill(pid, signal.SIGSTOP)  # the watcher we started, paused while the world moves on
        try:
            etcd.restart(etcd.members[0])  # its stream drops
            a.ok("unlock", "src/gone.py", agent="alice")
            a.ok("lock", "src/new.py", agent="alice")
            member = etcd.members[0]
            revision = etcd.post(member, "maintenance/status", {})["header"]["revision"]
            etcd.post(member, "kv/compaction", {"revision": revision})
        finally:
            os.kill(pid, signal.SIGCONT)
        assert wait_for(lambda: "src/new.py" in index.read_text() and "src/gone.py" not in index.read_text(),
                        timeout=8), index.read_text()
        assert edit(b, "bob", "src/new.py").code == 2
        assert edit(b, "bob", "src/gone.py").code == 0
