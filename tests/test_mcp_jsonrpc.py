"""`agent-sync mcp` on the wire: both protocol eras, and lines that are not valid requests.

Each test writes raw lines to the server's stdin, closes it, and reads every
line of stdout: the server must answer each request once, skip
notifications, keep going after bad input, write nothing but JSON-RPC to
stdout, and exit 0 at end of input.
"""

import json
import subprocess
import sys

import pytest
from conftest import PYZ, clean_env

MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "raw-test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}


def exchange(repo, *lines, env=None):
    """Send lines (dicts are encoded), return (replies by id, every reply in order, stderr)."""
    data = b"".join((json.dumps(line).encode() if isinstance(line, (dict, list)) else
                     line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines)
    proc = subprocess.run([sys.executable, str(PYZ), "mcp"], input=data, cwd=str(repo.path),
                          env=clean_env(repo.home, **(env or {})), capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert "Traceback" not in err, err
    replies = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    for reply in replies:
        assert reply["jsonrpc"] == "2.0" and ("result" in reply) != ("error" in reply), reply
    return {r["id"]: r for r in replies}, replies, err


def request(msg_id, method, params=None, meta=None):
    params = dict(params or {})
    if meta:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}


def initialize(version, msg_id=1):
    return request(msg_id, "initialize", {"protocolVersion": version, "capabilities": {},
                                          "clientInfo": {"name": "raw-test", "version": "1"}})


INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


# ---------------------------------------------------------------------------
# Handshake era

@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
def test_handshake_era_echoes_the_clients_version(repo, version):
    by_id, replies, _ = exchange(repo, initialize(version), INITIALIZED, request(2, "tools/list"),
                                 request(3, "resources/list"), request(4, "ping"))
    assert len(replies) == 4  # the notification got no reply
    result = by_id[1]["result"]
    assert result["protocolVersion"] == version
    assert result["serverInfo"]["name"] == "agent-sync" and result["serverInfo"]["version"]
    assert set(result["capabilities"]) >= {"tools", "resources"}
    tools = by_id[2]["result"]["tools"]
    assert "lock" in {t["name"] for t in tools}
    assert all(t["inputSchema"]["type"] == "object" for t in tools)
    assert "resultType" not in by_id[2]["result"]  # plain results in this era
    assert by_id[4]["result"] == {}


def test_handshake_offers_its_latest_for_an_unknown_version(repo):
    by_id, _, _ = exchange(repo, initialize("2024-01-01"))
    assert by_id[1]["result"]["protocolVersion"] == "2025-11-25"


def test_handshake_era_tool_call_and_conflict(repo):
    lock = request(2, "tools/call", {"name": "lock", "arguments": {"paths": ["a.py"]}})
    by_id, _, _ = exchange(repo, initialize("2025-06-18"), INITIALIZED, lock, env={"AGENT_SYNC_ID": "alice"})
    assert by_id[2]["result"]["isError"] is False
    by_id, _, _ = exchange(repo, initialize("2025-06-18"), INITIALIZED, lock, env={"AGENT_SYNC_ID": "bob"})
    result = by_id[2]["result"]
    assert result["isError"] is True and "a.py is locked by alice" in result["content"][0]["text"]


# ---------------------------------------------------------------------------
# Per-request era (2026-07-28)

def test_discover_and_per_request_results(repo):
    by_id, _, _ = exchange(repo, request(1, "server/discover", meta=META), request(2, "tools/list", meta=META),
                           request(3, "resources/read", {"uri": "agent-sync://status"}, meta=META),
                           request(4, "tools/call", {"name": "whoami", "arguments": {}}, meta=META))
    discover = by_id[1]["result"]
    assert MODERN in discover["supportedVersions"] and "2025-06-18" in discover["supportedVersions"]
    assert set(discover["capabilities"]) >= {"tools", "resources"}
    for msg_id in (1, 2, 3, 4):
        result = by_id[msg_id]["result"]
        assert result["resultType"] == "complete", result
        assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "agent-sync"
    for msg_id in (1, 2, 3):
        assert by_id[msg_id]["result"]["ttlMs"] >= 0 and by_id[msg_id]["result"]["cacheScope"] in ("public", "private")
    assert by_id[3]["result"]["cacheScope"] == "private"
    assert json.loads(by_id[3]["result"]["contents"][0]["text"])["kind"] == "status"
    assert by_id[4]["result"]["isError"] is False


def test_unsupported_request_version_is_32022(repo):
    meta = dict(META, **{"io.modelcontextprotocol/protocolVersion": "2099-01-01"})
    by_id, _, _ = exchange(repo, request(1, "tools/list", meta=meta), request(2, "tools/list", meta=META))
    error = by_id[1]["error"]
    assert error["code"] == -32022
    assert MODERN in error["data"]["supported"]
    assert "tools" in by_id[2]["result"]  # and the server carries on


def test_client_info_from_meta_names_the_connection(repo):
    by_id, _, _ = exchange(repo, request(1, "tools/call", {"name": "whoami", "arguments": {}}, meta=META))
    assert by_id[1]["result"]["structuredContent"]["session"].startswith("mcp:raw-test:")


# ---------------------------------------------------------------------------
# Malformed input: an error reply where one is due, and the server keeps running

def test_parse_error_then_keeps_serving(repo):
    by_id, replies, _ = exchange(repo, "this is not json", '{"jsonrpc": "2.0", "id": 9, "method": ', initialize(
        "2025-11-25", msg_id=2), b"\xff\xfe not utf-8", request(3, "ping"))
    errors = [r for r in replies if "error" in r]
    assert [e["error"]["code"] for e in errors] == [-32700, -32700, -32700]
    assert all(e["id"] is None for e in errors)
    assert by_id[2]["result"]["protocolVersion"] == "2025-11-25"
    assert by_id[3]["result"] == {}


@pytest.mark.parametrize("line,code,msg_id", [
    ([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], -32600, None),          # batches are gone
    ("42", -32600, None),
    ({"jsonrpc": "1.0", "id": 5, "method": "ping"}, -32600, 5),
    ({"jsonrpc": "2.0", "id": 6}, -32600, 6),
    ({"jsonrpc": "2.0", "id": 7, "method": "ping", "params": [1]}, -32600, 7),
    ({"jsonrpc": "2.0", "id": None, "method": "ping"}, -32600, None),
    ({"jsonrpc": "2.0", "id": 8, "method": "no/such/method"}, -32601, 8),
    ({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "nope"}}, -32602, 9),
    ({"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {"name": "lock", "arguments": [1]}}, -32602, 10),
    ({"jsonrpc": "2.0", "id": 11, "method": "resources/read", "params": {"uri": "agent-sync://nope"}}, -32002, 11),
], ids=["batch", "number", "jsonrpc-1.0", "no-method", "params-list", "null-id", "unknown-method", "unknown-tool",
        "arguments-list", "unknown-resource"])
def test_invalid_requests_get_error_replies(repo, line, code, msg_id):
    by_id, replies, _ = exchange(repo, line, request("after", "ping"))
    assert replies[0]["error"]["code"] == code, replies
    assert replies[0]["id"] == msg_id
    assert by_id["after"]["result"] == {}


def test_notifications_and_responses_get_no_reply(repo):
    _, replies, _ = exchange(repo, INITIALIZED, {"jsonrpc": "2.0", "method": "notifications/cancelled",
                                                 "params": {"requestId": 1}},
                             {"jsonrpc": "2.0", "method": "no/such/notification"},
                             {"jsonrpc": "2.0", "id": 99, "result": {}}, "", "   ")
    assert replies == []


def test_string_ids_round_trip_and_stdout_is_only_protocol(repo):
    by_id, replies, _ = exchange(repo, request("a-1", "ping"), request(0, "ping"))
    assert set(by_id) == {"a-1", 0} and len(replies) == 2


def test_end_of_input_ends_the_server_even_without_a_newline(repo):
    proc = subprocess.run([sys.executable, str(PYZ), "mcp"], input=json.dumps(request(1, "ping")).encode(),
                          cwd=str(repo.path), env=clean_env(repo.home), capture_output=True, timeout=30, check=False)
    assert proc.returncode == 0 and json.loads(proc.stdout)["result"] == {}


def test_an_unexpected_failure_is_32603_and_the_server_carries_on(monkeypatch, tmp_path):
    from agent_sync.mcp import server

    def explode(self, params):
        raise RuntimeError("boom")

    monkeypatch.setitem(server.METHODS, "ping", explode)
    logged = []
    srv = server.Server(cwd=str(tmp_path), environ={}, log=logged.append)
    reply = json.loads(srv.handle_line(json.dumps(request(1, "ping")).encode()))
    assert reply["error"]["code"] == -32603 and "boom" in reply["error"]["message"]
    assert logged and "boom" in logged[0]
    ok = json.loads(srv.handle_line(json.dumps(initialize("2025-06-18", msg_id=2)).encode()))
    assert ok["result"]["protocolVersion"] == "2025-06-18"


def test_a_server_in_a_linked_worktree_names_files_like_the_main_tree(repo, tmp_path):
    git = ["git", "-C", str(repo.path), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    env = clean_env(repo.home)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "init"], check=True, env=env)
    worktree = tmp_path / "wt"
    subprocess.run([*git, "worktree", "add", "-q", str(worktree)], check=True, env=env, capture_output=True)
    lock = request(1, "tools/call", {"name": "lock", "arguments": {"paths": ["src/shared.py"]}})
    proc = subprocess.run([sys.executable, str(PYZ), "mcp"], input=json.dumps(lock).encode() + b"\n",
                          cwd=str(worktree), env=clean_env(repo.home, AGENT_SYNC_ID="alice"), capture_output=True,
                          timeout=60, check=False)
    assert json.loads(proc.stdout)["result"]["isError"] is False, proc.stdout
    assert [lk["path"] for lk in repo.json("locks", agent="bob")["locks"]] == ["src/shared.py"]
