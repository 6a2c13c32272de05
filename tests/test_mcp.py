"""`agent-sync mcp` against a real client: the official `mcp` SDK, over stdio, in both protocol eras.

Each Client launches its own server process from dist/agent-sync.pyz, so
two clients are two agents: a lock one takes comes back to the other as a
tool result with isError, explained exactly as the CLI explains it.
"""

import json
import re

import anyio
import pytest
from conftest import PYZ, clean_env
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from agent_sync.core.identity import session_agent_id

TOOLS = {"status", "register", "whoami", "lock", "unlock", "locks", "renew", "create_task", "claim_task",
         "claim_next", "complete_task", "block_task", "send", "inbox", "read_message", "ack", "decision", "log"}
MODES = {"modern": ("auto", "2026-07-28"), "legacy": ("legacy", "2025-11-25")}


def server(repo, **env):
    import sys

    return StdioServerParameters(command=sys.executable, args=[str(PYZ), "mcp"], cwd=str(repo.path),
                                 env=clean_env(repo.home, **env))


def client(repo, mode="auto", **env):
    return Client(server(repo, **env), mode=mode, read_timeout_seconds=60)


def text_of(result):
    return "\n".join(block.text for block in result.content if block.type == "text")


def run(coro_fn):
    return anyio.run(coro_fn)


def _same_explanation(text):
    """Expiry wording moves with the clock; everything else must match."""
    return re.sub(r"expires in \S+ \(\d\d:\d\d UTC\)", "expires in T", text.strip())


@pytest.mark.parametrize("era", sorted(MODES))
def test_two_clients_lock_conflict_and_status_resource(repo, era):
    mode, version = MODES[era]
    (repo.path / "src").mkdir()

    async def main():
        async with client(repo, mode) as alice, client(repo, mode) as bob:
            assert alice.protocol_version == version and bob.protocol_version == version

            listed = await alice.list_tools()
            names = {tool.name for tool in listed.tools}
            assert names == TOOLS
            for tool in listed.tools:
                assert tool.input_schema["type"] == "object" and tool.description
            lock_schema = next(t for t in listed.tools if t.name == "lock").input_schema
            assert lock_schema["required"] == ["paths"]

            took = await alice.call_tool("lock", {"paths": ["src/app.py"], "reason": "login refactor"})
            assert not took.is_error, text_of(took)
            assert text_of(took).startswith("locked src/app.py")
            assert took.structured_content["locks"][0]["path"] == "src/app.py"

            refused = await bob.call_tool("lock", {"paths": ["src/app.py"]})
            assert refused.is_error, text_of(refused)
            me = json.loads(json.dumps((await alice.call_tool("whoami", {})).structured_content))["id"]
            assert "src/app.py is locked by" in text_of(refused) and me in text_of(refused)

            cli = repo.run("lock", "src/app.py", agent="carol")
            assert cli.code == 3, cli
            assert _same_explanation(text_of(refused)) == _same_explanation(cli.err.removeprefix("agent-sync: "))

            resources = await bob.list_resources()
            assert {str(r.uri) for r in resources.resources} == {"agent-sync://status", "agent-sync://locks"}
            status = await bob.read_resource("agent-sync://status")
            doc = json.loads(status.contents[0].text)
            assert doc["kind"] == "status"
            assert [(lk["path"], lk["owner"]) for lk in doc["locks"]] == [("src/app.py", me)]
            assert doc["me"] != me  # bob is his own agent

            locks = json.loads((await alice.read_resource("agent-sync://locks")).contents[0].text)
            assert locks["locks"][0]["reason"] == "login refactor"

            freed = await alice.call_tool("unlock", {"paths": ["src/app.py"]})
            assert not freed.is_error and text_of(freed) == "unlocked src/app.py"
            again = await bob.call_tool("lock", {"paths": ["src/app.py"]})
            assert not again.is_error, text_of(again)

    run(main)


def test_tasks_messages_and_the_rest_of_the_tools(repo):
    async def main():
        async with client(repo, AGENT_SYNC_ID="alice") as alice, client(repo, AGENT_SYNC_ID="bob") as bob:
            assert (await alice.call_tool("register", {"name": "alice", "role": "backend"})).structured_content[
                "agent"]["name"] == "alice"
            await bob.call_tool("register", {"name": "bob"})
            who = await alice.call_tool("whoami", {})
            assert who.structured_content["id"] == "alice" and who.structured_content["source"] == "env"

            made = await alice.call_tool("create_task", {"title": "Add /login", "files": ["src/auth.py"],
                                                         "priority": 2})
            assert made.structured_content["task"]["files"] == ["src/auth.py"]
            claimed = await alice.call_tool("claim_next", {"lock": True})
            assert claimed.structured_content["task"]["status"] == "in_progress", text_of(claimed)
            stolen = await bob.call_tool("claim_task", {"task": 1})
            assert stolen.is_error and "owned by alice" in text_of(stolen)
            blocked = await bob.call_tool("complete_task", {"task": "#1"})
            assert blocked.is_error
            assert (await alice.call_tool("block_task", {"task": 1, "reason": "waiting on schema"})
                    ).structured_content["task"]["status"] == "blocked"

            sent = await bob.call_tool("send", {"to": "alice", "message": "schema is ready"})
            message_id = sent.structured_content["id"]
            inbox = await alice.call_tool("inbox", {})
            assert [m["body"] for m in inbox.structured_content["messages"]] == ["schema is ready"]
            assert "[&agent-sync-state trust=untrusted]" in text_of(inbox)
            again = await alice.call_tool("inbox", {"mark_read": True})  # listing consumed nothing
            assert [m["body"] for m in again.structured_content["messages"]] == ["schema is ready"]
            assert (await alice.call_tool("inbox", {})).structured_content["messages"] == []
            assert not (await alice.call_tool("read_message", {"id": message_id})).is_error
            assert not (await alice.call_tool("ack", {"id": str(message_id)})).is_error
            assert (await bob.call_tool("ack", {"id": message_id})).is_error  # his own message

            assert not (await alice.call_tool("decision", {"text": "JWT in the body"})).is_error
            assert not (await alice.call_tool("log", {"type": "note", "message": "started", "file": "src/auth.py"})
                        ).is_error
            assert (await alice.call_tool("renew", {})).structured_content["kind"] == "renewed"
            mine = await alice.call_tool("locks", {"mine": True})
            assert mine.structured_content["locks"] == []  # blocking the task released its lease
            compact = await bob.call_tool("status", {"compact": True})
            assert text_of(compact).startswith("[&agent-sync-state trust=untrusted]")

    run(main)


def test_bad_arguments_are_tool_errors_and_unknown_tools_protocol_errors(repo):
    async def main():
        async with client(repo) as one:
            missing = await one.call_tool("lock", {})
            assert missing.is_error and "paths" in text_of(missing)
            wrong = await one.call_tool("lock", {"paths": "src/app.py"})
            assert wrong.is_error and "array" in text_of(wrong)
            extra = await one.call_tool("whoami", {"bogus": 1})
            assert extra.is_error and "bogus" in text_of(extra)
            ttl = await one.call_tool("lock", {"paths": ["a.py"], "ttl": 0})
            assert ttl.is_error and "greater than zero" in text_of(ttl)
            from mcp.shared.exceptions import MCPError

            with pytest.raises(MCPError) as caught:
                await one.call_tool("no_such_tool", {})
            assert caught.value.error.code == -32602
            # the server is still there
            assert not (await one.call_tool("whoami", {})).is_error

    run(main)


def test_identity_follows_the_clients_session(repo):
    """With CLAUDE_CODE_SESSION_ID (which Claude Code exports to stdio servers) MCP and hooks are one agent."""
    session = "3f6b2c1e-8a4d-4e0b-9c57-2d1f0a9b7e64"
    (repo.path / "src").mkdir()

    async def main():
        async with client(repo, CLAUDE_CODE_SESSION_ID=session) as claude:
            who = await claude.call_tool("whoami", {})
            assert who.structured_content["id"] == session_agent_id(session)
            assert who.structured_content["source"] == "session"
            assert not (await claude.call_tool("lock", {"paths": ["src/app.py"]})).is_error

    run(main)
    edit = {"session_id": session, "cwd": str(repo.path), "tool_name": "Edit",
            "tool_input": {"file_path": str(repo.path / "src" / "app.py")}}
    assert repo.hook("pre-tool-use", edit).code == 0  # its own lock
    other = dict(edit, session_id="9d2e7a41-5c3b-4f18-a6e0-71b8c4d25f93")
    assert repo.hook("pre-tool-use", other).code == 2


def test_without_a_session_each_client_is_its_own_agent(repo):
    async def main():
        async with client(repo) as one, client(repo) as two:
            first = (await one.call_tool("whoami", {})).structured_content
            second = (await two.call_tool("whoami", {})).structured_content
            assert first["id"] != second["id"]
            assert first["source"] == "mcp-client" and first["session"].startswith("mcp:")
            assert (await one.call_tool("whoami", {})).structured_content["id"] == first["id"]  # stable

    run(main)


def test_register_agent_id_binds_the_connection_to_the_hooks_identity(repo):
    """Agents whose MCP servers cannot see their session (Codex, Gemini, Cursor) bind to the id session start gave."""
    session = "7c1d9e24-0b6f-4a3e-8f52-d4e6a9b1c070"
    me = session_agent_id(session)
    (repo.path / "src").mkdir()

    async def main():
        async with client(repo) as gemini:
            bound = await gemini.call_tool("register", {"agent_id": me})
            assert not bound.is_error and me in text_of(bound), text_of(bound)
            named = await gemini.call_tool("register", {"name": "gemini-1", "agent_id": me})
            assert named.structured_content["agent"]["id"] == me
            assert (await gemini.call_tool("whoami", {})).structured_content["source"] == "mcp-register"
            assert not (await gemini.call_tool("lock", {"paths": ["src/app.py"]})).is_error
            for bad in ("operator", "no spaces allowed", ""):
                refused = await gemini.call_tool("register", {"agent_id": bad})
                assert refused.is_error, bad
            assert (await gemini.call_tool("register", {})).is_error

    run(main)
    write = {"session_id": session, "cwd": str(repo.path), "hook_event_name": "BeforeTool", "tool_name": "write_file",
             "tool_input": {"file_path": str(repo.path / "src" / "app.py"), "content": "x"}}
    own = repo.run("hook", "--agent", "gemini", "BeforeTool", input=json.dumps(write))
    assert own.code == 0, own
    other = repo.run("hook", "--agent", "gemini", "BeforeTool", input=json.dumps(dict(write, session_id="another")))
    assert other.code == 2 and "gemini-1" in other.err, other


def test_a_removed_or_replaced_database_is_reopened_between_calls(repo):
    """The server keeps one connection between calls; none may write to a file no longer there."""
    import shutil

    (repo.path / "src").mkdir()
    state = repo.path / ".claude" / "coordination"

    async def main():
        async with client(repo, AGENT_SYNC_ID="keeper") as agent:
            assert not (await agent.call_tool("lock", {"paths": ["src/a.py"]})).is_error
            shutil.rmtree(state)  # the state folder deleted while the server runs
            assert not (await agent.call_tool("lock", {"paths": ["src/b.py"]})).is_error
            assert [lk["path"] for lk in repo.json("locks")["locks"]] == ["src/b.py"]
            moved = state.with_name("moved.sqlite")
            shutil.copyfile(repo.db, moved)  # a replaced file, as doctor --repair leaves it
            repo.db.unlink()
            moved.rename(repo.db)
            assert not (await agent.call_tool("lock", {"paths": ["src/c.py"]})).is_error
            assert [lk["path"] for lk in repo.json("locks")["locks"]] == ["src/b.py", "src/c.py"]

    run(main)
