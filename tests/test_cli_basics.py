"""The CLI as the spec's README shows it: Quickstart, three agents, --help, exit codes, --version."""

import json
import re
import subprocess
import sys

import pytest
from conftest import PYZ, ROOT, clean_env


def one_line_error(result, code):
    """A failure: the documented exit code, one `agent-sync:` line on stderr, nothing on stdout."""
    assert result.code == code, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {lines!r}"
    assert lines[0].startswith("agent-sync:"), lines
    assert "Traceback" not in result.err
    assert result.out == "", result


# ---------------------------------------------------------------------------
# The spec's Quickstart, command by command


def test_quickstart_runs_as_written(repo):
    out = repo.ok("init").out
    assert str(repo.db) in out and repo.db.exists()

    out = repo.ok("register", "--name", "frontend", "--role", "React UI").out
    assert "frontend" in out and "React UI" in out

    out = repo.ok("create-task", "Update login UI", "--file", "src/login.tsx").out
    assert re.search(r"created #1 Update login UI \[open\]", out), out

    out = repo.ok("claim-task", "Update login UI").out
    assert re.search(r"claimed #1 Update login UI \[in_progress\]", out), out

    out = repo.ok("lock", "src/login.tsx", "--reason", "editing login page").out
    assert out.startswith("locked src/login.tsx"), out

    out = repo.ok("status").out
    for text in ("frontend", "Update login UI", "src/login.tsx", "editing login page"):
        assert text in out, (text, out)

    out = repo.ok("status", "--compact").out
    assert out.startswith("[&agent-sync-state trust=untrusted]") and out.rstrip().endswith("[&/agent-sync-state]"), out
    assert "src/login.tsx" in out and "Update login UI" in out

    out = repo.ok("send", "--to", "all", "--message", "Login UI task started").out
    assert re.search(r"sent message #1 to all", out), out

    out = repo.ok("decision", "Use SQLite for coordination state").out
    assert "decision #1" in out

    out = repo.ok("complete-task", "Update login UI").out
    assert re.search(r"completed #1 Update login UI \[done\]", out), out

    out = repo.ok("unlock", "src/login.tsx").out
    assert "unlocked src/login.tsx" in out

    out = repo.ok("gc").out
    assert out.startswith("gc:"), out

    assert repo.json("locks")["locks"] == []
    (task,) = repo.json("tasks")["tasks"]
    assert task["status"] == "done"
    (decision,) = repo.json("decisions")["decisions"]
    assert decision["text"] == "Use SQLite for coordination state"


# ---------------------------------------------------------------------------
# The spec's "Example: three agents", including the PreToolUse hook

EDIT_AUTH = '{"tool_name":"Edit","tool_input":{"file_path":"src/api/auth.py"}}'


@pytest.fixture
def three_agents(repo):
    (repo.path / "src" / "api").mkdir(parents=True)
    repo.ok("register", "--name", "frontend", "--role", "React UI", agent="frontend")
    repo.ok("register", "--name", "backend", "--role", "API + DB", agent="backend")
    repo.ok("register", "--name", "tests", "--role", "pytest + e2e", agent="tests")
    repo.ok("create-task", "Add /login endpoint", "--file", "src/api/auth.py", agent="backend")
    repo.ok("claim-task", "Add /login endpoint", agent="backend")
    repo.ok("lock", "src/api/auth.py", "--reason", "writing /login", agent="backend")
    return repo


def test_three_agents_example(three_agents):
    repo = three_agents
    names = {a["name"] for a in repo.json("agents", agent="frontend")["agents"]}
    assert {"frontend", "backend", "tests"} <= names
    (lock,) = repo.json("locks", agent="tests")["locks"]
    assert (lock["path"], lock["owner"], lock["reason"]) == ("src/api/auth.py", "backend", "writing /login")

    repo.ok("send", "--to", "all", "--message", "/login returns {token,user} in body", agent="backend")
    repo.ok("complete-task", "Add /login endpoint", agent="backend")
    repo.ok("unlock", "src/api/auth.py", agent="backend")
    (msg,) = repo.json("inbox", agent="tests")["messages"]
    assert msg["body"] == "/login returns {token,user} in body"
    assert repo.json("locks", agent="tests")["locks"] == []


def test_hook_blocks_edit_of_file_locked_by_another_agent(three_agents):
    repo = three_agents
    result = repo.hook("pre-tool-use", EDIT_AUTH, agent="tests")
    assert result.code == 2, result
    assert "src/api/auth.py" in result.err and "backend" in result.err, result


def test_hook_lets_the_lock_owner_edit(three_agents):
    result = three_agents.hook("pre-tool-use", EDIT_AUTH, agent="backend")
    assert result.code == 0, result


def test_hook_resolves_relative_path_against_payload_cwd(three_agents):
    repo = three_agents
    payload = {"tool_name": "Edit", "cwd": str(repo.path / "src"), "tool_input": {"file_path": "api/auth.py"}}
    result = repo.hook("pre-tool-use", payload, agent="tests")
    assert result.code == 2, result
    assert "src/api/auth.py" in result.err


def test_hook_resolves_relative_path_against_process_cwd(three_agents):
    repo = three_agents
    payload = {"tool_name": "Write", "tool_input": {"file_path": "api/auth.py"}}
    result = repo.hook("pre-tool-use", payload, agent="tests", cwd=repo.path / "src")
    assert result.code == 2, result
    assert "src/api/auth.py" in result.err


def test_hook_allows_unlocked_file(three_agents):
    payload = {"tool_name": "Edit", "tool_input": {"file_path": "src/api/other.py"}}
    assert three_agents.hook("pre-tool-use", payload, agent="tests").code == 0


def test_hook_has_help(repo):
    result = repo.ok("hook", "--help")
    assert result.out.strip()


# ---------------------------------------------------------------------------
# --help for every command, and every command in the README


@pytest.fixture(scope="module")
def commands(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    proc = subprocess.run([sys.executable, str(PYZ), "--help"], capture_output=True, text=True, check=False,
                          env=clean_env(home), cwd=str(home))
    assert proc.returncode == 0, proc.stderr
    found = re.search(r"\{([a-z,-]+)\}", proc.stdout)
    if found:  # argparse's "{a,b,c}" form
        names = found.group(1).split(",")
    else:  # the indented listing under the COMMAND metavar
        names = re.findall(r"^ {4}([a-z][a-z-]*)(?:\s|$)", proc.stdout, flags=re.MULTILINE)
    assert len(names) >= 20, proc.stdout
    return names


def test_help_lists_the_core_commands(commands):
    for name in ("init", "register", "status", "lock", "unlock", "send", "inbox", "claim-next", "gc"):
        assert name in commands


def test_every_command_has_help(repo, commands):
    for name in commands:
        result = repo.run(name, "--help")
        assert result.code == 0, (name, result)
        assert result.out.strip(), name
        assert name in result.out, (name, result.out)


def test_every_command_is_in_the_readme(commands):
    readme = ROOT / "README.md"
    assert readme.exists(), "README.md is missing"
    text = readme.read_text(encoding="utf-8")
    missing = [n for n in commands + ["hook"] if not re.search(rf"(agent-sync\s+|`){re.escape(n)}(?![\w-])", text)]
    assert not missing, f"commands not documented in README.md: {missing}"


# ---------------------------------------------------------------------------
# Exit codes

USAGE_ERRORS = [
    ("unknown-command", ["frobnicate"]),
    ("register-without-name", ["register"]),
    ("send-without-message", ["send", "--to", "all"]),
    ("send-without-to", ["send", "--message", "hi"]),
    ("lock-without-path", ["lock"]),
    ("claim-without-task", ["claim-task"]),
    ("block-without-reason", ["block-task", "1"]),
    ("ttl-zero", ["lock", "a.py", "--ttl", "0"]),
    ("ttl-negative", ["lock", "a.py", "--ttl", "-5"]),
    ("ttl-garbage", ["lock", "a.py", "--ttl", "abc"]),
    ("claim-ttl-garbage", ["claim-task", "1", "--ttl", "abc"]),
    ("priority-garbage", ["create-task", "t", "--priority", "x"]),
    ("unknown-flag", ["locks", "--bogus"]),
    ("bad-state", ["tasks", "--state", "nope"]),
    ("message-id-garbage", ["read-message", "abc"]),
]


@pytest.mark.parametrize("argv", [a for _, a in USAGE_ERRORS], ids=[i for i, _ in USAGE_ERRORS])
def test_usage_errors_exit_2_with_one_line(repo, argv):
    one_line_error(repo.run(*argv, agent="a"), 2)


def test_no_command_is_a_usage_error(repo):
    result = repo.run()
    assert result.code == 2, result
    assert "Traceback" not in result.err


def test_conflict_exits_3(repo):
    repo.ok("lock", "a.py", agent="a")
    result = repo.run("lock", "a.py", agent="b")
    one_line_error(result, 3)
    assert "a.py" in result.err


@pytest.mark.parametrize("argv", [["claim-task", "999"], ["read-message", "999"], ["unlock", "free.py"],
                                  ["ack", "999"], ["complete-task", "no such title"]],
                         ids=["claim-task", "read-message", "unlock", "ack", "complete-by-title"])
def test_not_found_exits_4(repo, argv):
    one_line_error(repo.run(*argv, agent="a"), 4)


def test_not_allowed_exits_6(repo):
    for agent in ("alice", "bob", "carol"):
        repo.ok("register", "--name", agent, agent=agent)
    out = repo.ok("send", "--to", "bob", "--message", "for bob only", agent="alice").out
    message_id = re.search(r"#(\d+)", out).group(1)
    one_line_error(repo.run("read-message", message_id, agent="carol"), 6)
    one_line_error(repo.run("ack", message_id, agent="carol"), 6)
    repo.ok("read-message", message_id, agent="bob")
    repo.ok("ack", message_id, agent="bob")


def test_version_matches_package(repo):
    text = (ROOT / "agent_sync" / "__init__.py").read_text(encoding="utf-8")
    version = re.search(r'__version__\s*=\s*"([^"]+)"', text).group(1)
    result = repo.ok("--version")
    assert result.out.strip() == f"agent-sync {version}"


def test_json_output_is_one_document(repo):
    repo.ok("lock", "a.py", agent="a")
    out = repo.ok("locks", "--json", agent="a").out
    assert out.count("\n") == 1 and json.loads(out)["kind"] == "locks"
