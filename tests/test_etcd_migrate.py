"""`agent-sync migrate`: the local store's live work moves into an empty etcd namespace, through the archive."""

import json

from etcd_clones import stop_watchers
from etcd_fixtures import etcd  # noqa: F401


def commit(repo):
    import subprocess

    from conftest import clean_env

    env = clean_env(repo.home, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
                    GIT_COMMITTER_EMAIL="t@e")
    (repo.path / "README").write_text("x\n")
    subprocess.run(["git", "add", "README"], cwd=repo.path, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "first"], cwd=repo.path, check=True, env=env)


def test_migrate_copies_open_tasks_live_locks_and_unread_messages(repo, etcd):  # noqa: F811
    commit(repo)
    repo.ok("register", "--name", "alice", agent="alice")
    repo.ok("register", "--name", "bob", agent="bob")
    repo.ok("create-task", "first job", "--file", "src/a.py", agent="alice")
    repo.ok("create-task", "second job", "--depends-on", "1", agent="alice")
    repo.ok("create-task", "done job", agent="alice")
    repo.ok("claim-task", "3", agent="bob")
    repo.ok("complete-task", "3", agent="bob")
    repo.ok("claim-task", "1", agent="bob")
    repo.ok("lock", "src/a.py", "--reason", "working on it", agent="bob")
    repo.ok("send", "--to", "alice", "--message", "unread one", agent="bob")
    repo.ok("send", "--to", "bob", "--message", "read one", agent="alice")
    repo.ok("inbox", "--mark-read", agent="bob")
    (repo.path / ".claude" / "agent-sync.json").write_text(json.dumps({"backend": etcd.url}))
    try:
        out = repo.ok("migrate").out
        assert "2 tasks, 1 locks, 1 unread messages" in out, out
        tasks = {t["title"]: t for t in repo.json("tasks")["tasks"]}
        assert set(tasks) == {"first job", "second job"}
        assert tasks["first job"]["status"] == "in_progress" and tasks["first job"]["owner"] == "bob"
        assert tasks["first job"]["files"] == ["src/a.py"]
        assert repo.run("claim-task", str(tasks["second job"]["id"]), agent="carol").code == 3  # its dependency
        locks = repo.json("locks")["locks"]
        assert [(lk["path"], lk["owner"], lk["reason"]) for lk in locks] == [("src/a.py", "bob", "working on it")]
        assert repo.run("lock", "src/a.py", agent="carol").code == 3  # still held, now by the engine
        inbox = repo.json("inbox", agent="alice")["messages"]
        assert [m["body"] for m in inbox] == ["unread one"] and inbox[0]["from"] == "bob"
        assert repo.json("inbox", agent="bob")["messages"] == []  # read messages stay behind
        assert repo.json("status")["backend"]["kind"] == "etcd"
        again = repo.run("migrate")
        assert again.code == 3 and "already holds" in again.err, again  # never into a non-empty namespace
    finally:
        stop_watchers(repo)


def test_a_running_mcp_server_follows_the_repository_onto_etcd(repo, etcd):  # noqa: F811
    """The MCP server keeps its store between calls; a backend configured meanwhile must take over."""
    import anyio
    from test_mcp import client

    commit(repo)
    (repo.path / "src").mkdir()

    async def main():
        async with client(repo, AGENT_SYNC_ID="keeper") as agent:
            assert not (await agent.call_tool("lock", {"paths": ["src/a.py"]})).is_error  # SQLite
            (repo.path / ".claude" / "agent-sync.json").write_text(json.dumps({"backend": etcd.url}))
            assert not (await agent.call_tool("lock", {"paths": ["src/b.py"]})).is_error  # now etcd
            status = (await agent.call_tool("status", {})).structured_content
            assert status["backend"]["kind"] == "etcd", status

    try:
        anyio.run(main)
        assert [lk["path"] for lk in repo.json("locks")["locks"]] == ["src/b.py"]  # the engine's, as the CLI sees
    finally:
        stop_watchers(repo)
