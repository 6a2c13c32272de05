"""The command line: one parser table, one dispatch, one place that turns errors into exit codes."""

import argparse
import sys

from .. import __version__
from ..core import errors, perms, tasks, validate
from . import handlers, guard
from ..core.errors import AgentSyncError, UsageError

EPILOG = "Exit codes: " + ", ".join(f"{code} {name}" for code, name, _ in errors.EXIT_CODES) + "."


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and our usage exit code."""

    def error(self, message):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _add(sub, name, handler, help_text, *arguments, json_flag=False):
    p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG)
    for flags, options in arguments:
        p.add_argument(*flags, **options)
    if json_flag:
        p.add_argument("--json", action="store_true", help="print one JSON document (see README: JSON output)")
    p.set_defaults(handler=handler)
    return p


def arg(*flags, **options):
    return flags, options


TASK = arg("task", help="task id (12 or #12) or exact title")
FORCE = arg("--force", action="store_true", help="act even though another agent owns it")
TTL = arg("--ttl", help="lease length: minutes (60) or a duration (30s, 10m, 2h); default 60m")


def build_parser():
    c = handlers
    parser = Parser(prog="agent-sync", description="Coordinate AI coding-agent sessions in one repository.",
                    epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"agent-sync {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _add(sub, "init", c.cmd_init, "Create the database (every command does this on first use).")
    _add(sub, "register", c.cmd_register, "Set this agent's name and role.",
         arg("--name", required=True, help="unique agent name"), arg("--role", help="what this agent works on"))
    _add(sub, "heartbeat", c.cmd_heartbeat, "Mark this agent active now.")
    _add(sub, "whoami", c.cmd_whoami, "Show this agent's identity and where it came from.", json_flag=True)
    _add(sub, "agents", c.cmd_agents, "List agents and their presence.", json_flag=True)
    _add(sub, "status", c.cmd_status, "Show agents, tasks, locks, messages and activity.",
         arg("--compact", action="store_true", help="terse framed Markdown for an agent's context"), json_flag=True)
    _add(sub, "tasks", c.cmd_tasks, "List tasks.",
         arg("--state", action="append", choices=tasks.STATES,
             help="only tasks in this state (repeatable)"), json_flag=True)
    _add(sub, "create-task", c.cmd_create_task, "Create a task.",
         arg("title", help="task title"), arg("--description", help="longer description"),
         arg("--file", action="append", help="a file, directory or pattern the task touches (repeatable)"),
         arg("--priority", type=int, default=0, help="higher runs first (default 0)"),
         arg("--depends-on", action="append", help="task that must be done first (repeatable)"))
    lock_flag = arg("--lock", action="store_true", help="also lock the task's files, atomically with the claim")
    _add(sub, "claim-task", c.cmd_claim_task, "Claim a task by id or title.", TASK, lock_flag, TTL)
    _add(sub, "claim-next", c.cmd_claim_next,
         "Claim the best available task (highest priority; reclaims tasks of stale agents).", lock_flag, TTL,
         arg("--verbose", action="store_true", help="say why tasks were skipped"))
    _add(sub, "complete-task", c.cmd_complete_task, "Mark a task done (owner only).", TASK, FORCE)
    _add(sub, "block-task", c.cmd_block_task, "Mark a task blocked (owner only).", TASK,
         arg("--reason", required=True, help="what it waits for"), FORCE)
    _add(sub, "cancel-task", c.cmd_cancel_task, "Cancel a task (owner only).", TASK, FORCE)
    _add(sub, "reopen-task", c.cmd_reopen_task, "Put a blocked, done or cancelled task back on the board.", TASK, FORCE)
    paths = arg("paths", nargs="+", metavar="PATH", help="file, directory (dir/) or pattern ('src/**')")
    resource = arg("--resource", action="store_true", help="PATH names a non-file resource (e.g. db-migrations)")
    _add(sub, "lock", c.cmd_lock, "Lock files, directories, patterns or resources (all or nothing).", paths,
         arg("--reason", help="why, shown to anyone blocked"), TTL, resource,
         arg("--shared", action="store_true", help="shared lock: coexists with other shared locks"),
         arg("--wait", nargs="?", const="60", metavar="SECONDS",
             help="queue fairly until granted (default 60s; accepts 30s, 2m)"))
    _add(sub, "unlock", c.cmd_unlock, "Release locks (owner only, unless --force).", paths, resource, FORCE)
    _add(sub, "renew", c.cmd_renew, "Extend your locks (all, or the paths given).",
         arg("paths", nargs="*", metavar="PATH", help="locks to renew (default: all of yours)"),
         arg("--ttl", help="new lease length from now (default: each lock's own)"))
    _add(sub, "locks", c.cmd_locks, "List live locks.",
         arg("--all", action="store_true", help="include expired locks"),
         arg("--mine", action="store_true", help="only your locks"), json_flag=True)
    _add(sub, "send", c.cmd_send, "Send a message to an agent id, name, role, or all.",
         arg("--to", required=True, help="id, name, role or 'all'"), arg("--message", required=True, help="text"),
         arg("--reply-to", type=int, metavar="ID", help="the message this answers"))
    _add(sub, "inbox", c.cmd_inbox, "Show unread messages (listing marks nothing read).",
         arg("--all", action="store_true", help="recent messages, read or not"),
         arg("--mark-read", action="store_true", help="mark the messages shown read, once they are printed"),
         json_flag=True)
    _add(sub, "read-message", c.cmd_read_message, "Show one message and mark it read.",
         arg("id", help="message id"), json_flag=True)
    _add(sub, "ack", c.cmd_ack, "Acknowledge a message addressed to you.", arg("id", help="message id"))
    _add(sub, "decision", c.cmd_decision, "Record a shared decision.", arg("text", help="the decision"))
    _add(sub, "decisions", c.cmd_decisions, "List recorded decisions, newest first.",
         arg("--limit", type=int, help="at most this many"), json_flag=True)
    _add(sub, "log", c.cmd_log, "Append an entry to the activity feed.",
         arg("--type", required=True, help="kind of entry, e.g. note, test, edit"),
         arg("--message", required=True, help="text"), arg("--file", help="the file it concerns"))
    _add(sub, "gc", c.cmd_gc, "Drop expired locks, decay presence, prune old history.")
    _add(sub, "doctor", _doctor, "Check the database, its state files and the installed hooks; exit 7 on a problem (8: only the hooks).",
         arg("--repair", action="store_true",
             help="move a damaged database aside (kept, timestamped), salvage its rows into a fresh one, "
                  "and rewrite the lock index and mail stamps"))
    from ..mcp import cmd_mcp

    _add(sub, "mcp", cmd_mcp, "Serve the coordination state to an MCP client over stdio (JSON-RPC, one per line).")
    from ..console import entry as live

    every = arg("--interval", default="1", metavar="S", help="seconds between polls (default 1; e.g. 0.5 or 2s)")
    _add(sub, "console", live.cmd_console, "Live operator console: see agents, locks, tasks, messages; steer them.",
         every, arg("--name", metavar="N", help="the operator's display name (default: operator)"))
    _add(sub, "watch", live.cmd_watch, "Stream the console's live feed as plain timestamped lines (pipes, logs).",
         every, arg("--backlog", type=int, default=20, metavar="N", help="recent entries to print first (default 20)"))
    _add(sub, "guard", guard.cmd_guard, "Install or remove the git pre-commit hook that refuses commits of files "
         "other agents have locked (bypass once: git commit --no-verify).",
         arg("action", choices=guard.ACTIONS, help="install or uninstall (check and trailers are run by the hooks)"),
         arg("--trailers", action="store_true", help="install: also add Agent-Sync-Agent/-Task commit trailers"),
         arg("hook_args", nargs="*", metavar="ARG", help=argparse.SUPPRESS))
    from . import install

    repo_flag = arg("--repo", metavar="DIR", help="a directory inside the target repository (default: here)")
    _add(sub, "install", install.cmd_install,
         "Install the archive, the skill and the Claude Code hooks into a repository, then test the hooks.",
         repo_flag, arg("--no-hooks", action="store_true", help="install the skill only; locks are not enforced"),
         arg("--settings", choices=("shared", "local"), default="shared",
             help="shared: .claude/settings.json (default); local: .claude/settings.local.json"),
         arg("--force", action="store_true", help="downgrade a newer install, or install outside a git repository"),
         arg("--agent", action="append", metavar="NAME",
             help="agent to wire: claude (default), codex, gemini, cursor, windsurf, copilot, or all (repeatable)"),
         arg("--mcp", action="store_true", help="also add the agent-sync MCP server to the project's .mcp.json"))
    _add(sub, "uninstall", install.cmd_uninstall,
         "Remove what install added: hook entries, the skill folder, the .gitignore line.", repo_flag,
         arg("--purge", action="store_true", help="also delete .claude/coordination/ (all shared state)"))
    _add(sub, "hook", c.cmd_hook, "Hook entry point: reads the agent's JSON payload on stdin.",
         arg("words", nargs=argparse.REMAINDER, metavar="[--agent NAME] EVENT",
             help="session-start, user-prompt-submit, pre-tool-use, post-tool-use, stop, subagent-start, "
                  "session-end, idle-wake (the async Stop waiter)"))
    return parser


def _doctor(ctx, args):
    from .doctor import cmd_doctor

    return cmd_doctor(ctx, args)


_doctor.needs_context = False  # it must open a damaged or too-new database its own way


def main(argv=None):
    """Run one command; return its exit code. Only __main__ calls sys.exit."""
    argv = sys.argv[1:] if argv is None else argv
    perms.restrict_umask()  # before anything is created
    try:
        validate.argv_is_text(argv)
        args = build_parser().parse_args(argv)
        if getattr(args, "handler", None) is None:
            build_parser().print_help()
            return errors.USAGE
        return run(args)
    except AgentSyncError as exc:
        return fail(exc, exc.exit_code)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return errors.OK


def run(args):
    from ..core.context import Context

    ctx = None
    try:
        if not getattr(args.handler, "needs_context", True):
            return args.handler(None, args)  # install, console…: they pick their own repo or identity
        ctx = Context()
        ctx.store.check_in()  # every command is a check-in, reads included (throttled)
        return args.handler(ctx, args)
    except OSError as exc:
        return fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), errors.STORAGE)
    finally:
        if ctx is not None:
            ctx.close()


def fail(message, code):
    from ..core.sanitize import one_line

    print(f"agent-sync: {one_line(str(message), 2000)}", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
