"""The CLI's quick parser (the common command lines, without importing argparse) agrees with argparse.

Whatever the quick parser accepts must give exactly argparse's namespace; whatever it declines goes to
argparse, which then writes the help or the error. Each case below says which of the two answers it.
"""

import subprocess
import sys

import pytest
from conftest import PYZ, clean_env

from agent_sync.cli import main as cli
from agent_sync.core.errors import UsageError

QUICK = [
    ["status"], ["status", "--compact"], ["status", "--json"], ["status", "--compact", "--json"],
    ["lock", "a"], ["lock", "a", "b", "--reason", "x"], ["lock", "--reason", "x", "a"], ["lock", "a", "--wait"],
    ["lock", "a", "--wait", "30"], ["lock", "a", "--wait=5"], ["lock", "a", "--ttl", "5m", "--shared", "--resource"],
    ["unlock", "a", "--force"], ["send", "--to", "all", "--message", "hi"],
    ["send", "--to=all", "--message=", "--reply-to", "3"], ["send", "--to", "a", "--to", "b", "--message", "m"],
    ["inbox"], ["inbox", "--all"], ["tasks"], ["tasks", "--state", "open", "--state", "done"], ["claim-next"],
    ["claim-next", "--lock", "--ttl", "2h", "--verbose"], ["complete-task", "12"], ["complete-task", "#12", "--force"],
    ["create-task", "t", "--file", "a", "--file", "b", "--priority", "3", "--depends-on", "1"], ["renew"],
    ["renew", "a", "b", "--ttl", "3m"], ["register", "--name", "n"], ["log", "--type", "t", "--message", "m"],
    ["decisions", "--limit", "3"], ["read-message", "3", "--json"], ["ack", "3"], ["decision", "x y"],
    ["watch", "--interval", "2", "--backlog", "5"], ["doctor", "--repair"], ["whoami", "--json"], ["gc"],
    ["install", "--agent", "codex", "--agent", "gemini", "--settings", "local", "--mcp"], ["locks", "--mine"],
]
TO_ARGPARSE = [
    ["status", "--comp"], ["status", "--compact=1"], ["status", "-h"], ["status", "--help"], ["lock"],
    ["lock", "--wait", "a"], ["lock", "a", "--reason", "x", "b"], ["lock", "a", "--", "b"], ["lock", "-"],
    ["send", "--message", "hi"], ["send", "--to", "all", "--message", "hi", "--reply-to", "x"],
    ["send", "--to", "all", "--message", "-x"], ["send", "--to", "all", "--message", "-- two words"],
    ["inbox", "x"], ["tasks", "--state", "nope"], ["complete-task"], ["complete-task", "a", "b"],
    ["create-task", "t", "--priority", "x"], ["register", "--role", "r"], ["install", "--settings", "x"],
    ["guard", "install", "--trailers"], ["decisions", "--limit", "-1"],
]


def argparse_answer(argv):
    try:
        return vars(cli.build_parser(only=argv[0]).parse_args(argv))
    except (UsageError, SystemExit):
        return "error or help"


@pytest.mark.parametrize("argv", QUICK, ids=" ".join)
def test_the_quick_parser_gives_argparse_namespace(argv):
    quick = cli.quick_parse(argv[0], cli.COMMANDS[argv[0]], argv[1:])
    assert quick is not None, "expected the quick parser to take this one"
    assert vars(quick) == argparse_answer(argv)


@pytest.mark.parametrize("argv", TO_ARGPARSE, ids=" ".join)
def test_the_quick_parser_leaves_the_rest_to_argparse(argv, capsys):
    assert cli.quick_parse(argv[0], cli.COMMANDS[argv[0]], argv[1:]) is None
    argparse_answer(argv)  # and argparse has an answer (a namespace, help or a usage error), not a crash


def test_every_command_has_a_quick_case_or_is_left_to_argparse():
    quick = {argv[0] for argv in QUICK}
    assert set(cli.COMMANDS) - quick <= {"init", "heartbeat", "agents", "claim-task", "block-task", "cancel-task",
                                         "reopen-task", "log", "mcp", "console", "guard", "uninstall", "hook",
                                         "remote", "migrate"}


def run(*argv, env=None):
    return subprocess.run([sys.executable, "-I", "-S", str(PYZ), *argv], capture_output=True, text=True,
                          env=env or clean_env("/nonexistent"), check=False)


def test_top_level_help_lists_every_command_with_its_help():
    proc = run("--help", env={**clean_env("/nonexistent"), "COLUMNS": "100"})
    assert proc.returncode == 0 and proc.stdout.startswith("usage: agent-sync [-h] [--version] COMMAND ...")
    flat = " ".join(proc.stdout.split())
    for name, command in cli.COMMANDS.items():
        assert f" {name} {command.help}" in flat, name
    assert max(len(line) for line in proc.stdout.splitlines()) <= 98
    assert "Exit codes: 0 ok" in flat


def test_no_command_prints_the_help_and_exits_with_the_usage_code():
    proc = run()
    assert proc.returncode == 2 and proc.stdout.startswith("usage: agent-sync")


def test_a_command_help_is_argparse_help():
    proc = run("lock", "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: agent-sync lock [-h]")
    assert "--wait [SECONDS]" in proc.stdout and "Exit codes:" in proc.stdout


# (CLI command, its option, MCP tool, its property): one wording for both, from core/wording.py.
SHARED_HELP = [("lock", "--reason", "lock", "reason"), ("lock", "--ttl", "lock", "ttl"),
               ("lock", "--shared", "lock", "shared"), ("unlock", "--force", "unlock", "force"),
               ("claim-task", "task", "claim_task", "task"), ("claim-task", "--lock", "claim_task", "lock"),
               ("send", "--to", "send", "to"), ("send", "--reply-to", "send", "reply_to"),
               ("register", "--name", "register", "name"), ("renew", "--ttl", "renew", "ttl"),
               ("block-task", "--reason", "block_task", "reason"), ("ack", "id", "ack", "id"),
               ("log", "--type", "log", "type"), ("inbox", "--all", "inbox", "all")]


@pytest.mark.parametrize("command,flag,tool,prop", SHARED_HELP)
def test_cli_and_mcp_describe_shared_arguments_in_the_same_words(command, flag, tool, prop):
    from agent_sync.mcp.tools import TOOLS

    cli_help = next(options["help"] for flags, options in cli.COMMANDS[command].arguments if flags[0] == flag)
    assert TOOLS[tool].properties[prop]["description"] == cli_help
