"""The command line: one command table, one dispatch, one place that turns errors into exit codes.

Start-up time is what an agent waits for on every command, so nothing is
imported before the command is known: the table names each handler's module,
argparse builds only the chosen command's parser, and `--version` and the
top-level help are answered from the table alone.
"""

import sys

from .. import __version__
from ..core import errors, perms, wording as w
from ..core.errors import AgentSyncError, UsageError

EPILOG = "Exit codes: " + ", ".join(f"{code} {name}" for code, name, _ in errors.EXIT_CODES) + "."
PROG = "agent-sync"
DESCRIPTION = "Coordinate AI coding-agent sessions in one repository."
SUPPRESS = "==SUPPRESS=="  # argparse.SUPPRESS, without importing argparse to name it


class Command:
    """One row of the table: where its handler lives, its help, its arguments, and whether the CLI
    opens a Context for it (the commands that pick their own repository or identity say no)."""

    def __init__(self, handler, help_text, *arguments, json_flag=False, needs_context=True):
        self.handler, self.help, self.arguments = handler, help_text, arguments
        self.json_flag, self.needs_context = json_flag, needs_context

    def load(self):
        module, _, name = self.handler.rpartition(".")
        return getattr(__import__(module, fromlist=[name]), name)


def arg(*flags, **options):
    return flags, options


def _task_states():
    from ..core.tasks import STATES

    return STATES


def _guard_actions():
    from .guard import ACTIONS

    return ACTIONS


def whole_number(field, minimum=None):
    """An argparse type: core.numbers' strict integer (ASCII digits, within 64 bits, at least `minimum`)."""
    from ..core import numbers

    low = numbers.INT64_MIN if minimum is None else minimum

    def convert(text):
        try:
            return numbers.parse_int(text, field, low)
        except UsageError as exc:
            import argparse

            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = field
    return convert


H = "agent_sync.cli.handlers."
TASK = arg("task", help=w.TASK)
FORCE = arg("--force", action="store_true", help=w.FORCE)
TTL = arg("--ttl", help=w.TTL)
LOCK_FLAG = arg("--lock", action="store_true", help=w.LOCK_WITH_CLAIM)
PATHS = arg("paths", nargs="+", metavar="PATH", help="file, directory (dir/) or pattern ('src/**')")
RESOURCE = arg("--resource", action="store_true", help="PATH names a non-file resource (e.g. db-migrations)")
REPO = arg("--repo", metavar="DIR", help="a directory inside the target repository (default: here)")
EVERY = arg("--interval", default="1", metavar="S", help="seconds between polls (default 1; e.g. 0.5 or 2s)")

COMMANDS = {
    "init": Command(H + "cmd_init", "Create the database (every command does this on first use)."),
    "register": Command(H + "cmd_register", "Set this agent's name and role.",
                        arg("--name", required=True, help=w.NAME), arg("--role", help=w.ROLE)),
    "heartbeat": Command(H + "cmd_heartbeat", "Mark this agent active now."),
    "whoami": Command(H + "cmd_whoami", "Show this agent's identity and where it came from.", json_flag=True),
    "agents": Command(H + "cmd_agents", "List agents and their presence.", json_flag=True),
    "status": Command(H + "cmd_status", "Show agents, tasks, locks, messages and activity.",
                      arg("--compact", action="store_true", help=w.COMPACT), json_flag=True),
    "tasks": Command(H + "cmd_tasks", "List tasks.",
                     arg("--state", action="append", choices=_task_states,
                         help="only tasks in this state (repeatable)"), json_flag=True),
    "create-task": Command(H + "cmd_create_task", "Create a task.",
                           arg("title", help=w.TITLE), arg("--description", help=w.DESCRIPTION),
                           arg("--file", action="append",
                               help="a file, directory or pattern the task touches (repeatable)"),
                           arg("--priority", type=whole_number("priority"), default=0, help=w.PRIORITY),
                           arg("--depends-on", action="append", help="task that must be done first (repeatable)")),
    "claim-task": Command(H + "cmd_claim_task", w.CLAIM_TASK, TASK, LOCK_FLAG, TTL),
    "claim-next": Command(H + "cmd_claim_next",
                          "Claim the best available task (highest priority; reclaims tasks of stale agents).",
                          LOCK_FLAG, TTL, arg("--verbose", action="store_true", help="say why tasks were skipped")),
    "complete-task": Command(H + "cmd_complete_task", "Mark a task done (owner only).", TASK, FORCE),
    "block-task": Command(H + "cmd_block_task", "Mark a task blocked (owner only).", TASK,
                          arg("--reason", required=True, help=w.BLOCK_REASON), FORCE),
    "cancel-task": Command(H + "cmd_cancel_task", "Cancel a task (owner only).", TASK, FORCE),
    "reopen-task": Command(H + "cmd_reopen_task", "Put a blocked, done or cancelled task back on the board.",
                           TASK, FORCE),
    "lock": Command(H + "cmd_lock", "Lock files, directories, patterns or resources (all or nothing).", PATHS,
                    arg("--reason", help=w.REASON), TTL, RESOURCE, arg("--shared", action="store_true", help=w.SHARED),
                    arg("--whole-repo", action="store_true", help="allow a PATH that is the whole repository (`.`)"),
                    arg("--wait", nargs="?", const="60", metavar="SECONDS",
                        help="queue fairly until granted (default 60s; accepts 30s, 2m)")),
    "unlock": Command(H + "cmd_unlock", "Release locks (owner only, unless --force).", PATHS, RESOURCE, FORCE),
    "renew": Command(H + "cmd_renew", w.RENEW, arg("paths", nargs="*", metavar="PATH", help=w.RENEW_PATHS),
                     arg("--ttl", help=w.RENEW_TTL)),
    "locks": Command(H + "cmd_locks", "List live locks.", arg("--all", action="store_true", help=w.ALL_LOCKS),
                     arg("--mine", action="store_true", help=w.MINE), json_flag=True),
    "send": Command(H + "cmd_send", w.SEND, arg("--to", required=True, help=w.TO),
                    arg("--message", required=True, help=w.TEXT),
                    arg("--reply-to", type=whole_number("the message id", 1), metavar="ID", help=w.REPLY_TO)),
    "inbox": Command(H + "cmd_inbox", "Show unread messages (listing marks nothing read).",
                     arg("--all", action="store_true", help=w.ALL_MESSAGES),
                     arg("--mark-read", action="store_true", help="mark the messages shown read, once they are printed"),
                     json_flag=True),
    "read-message": Command(H + "cmd_read_message", w.READ_MESSAGE, arg("id", help=w.MESSAGE_ID), json_flag=True),
    "ack": Command(H + "cmd_ack", w.ACK, arg("id", help=w.MESSAGE_ID)),
    "decision": Command(H + "cmd_decision", "Record a shared decision.", arg("text", help=w.DECISION)),
    "decisions": Command(H + "cmd_decisions", "List recorded decisions, newest first.",
                         arg("--limit", type=whole_number("limit", 1), help="at most this many (1 or more)"), json_flag=True),
    "log": Command(H + "cmd_log", "Append an entry to the activity feed.",
                   arg("--type", required=True, help=w.ENTRY_TYPE), arg("--message", required=True, help=w.TEXT),
                   arg("--file", help=w.ENTRY_FILE)),
    "gc": Command(H + "cmd_gc", "Drop expired locks, decay presence, prune old history."),
    # doctor must open a damaged or too-new database its own way
    "doctor": Command("agent_sync.cli.doctor.cmd_doctor",
                      "Check the database, its state files and the installed hooks; exit 7 on a problem "
                      "(8: only the hooks).",
                      arg("--repair", action="store_true",
                          help="move a damaged database aside (kept, timestamped), salvage its rows into a fresh one, "
                               "and rewrite the lock index and mail stamps"), needs_context=False),
    # one Context per request, with each client's identity
    "mcp": Command("agent_sync.mcp.cmd_mcp",
                   "Serve the coordination state to an MCP client over stdio (JSON-RPC, one per line).",
                   needs_context=False),
    "console": Command("agent_sync.console.entry.cmd_console",
                       "Live operator console: see agents, locks, tasks, messages; steer them.",
                       EVERY, arg("--name", metavar="N", help="the operator's display name (default: operator)"),
                       needs_context=False),
    "watch": Command("agent_sync.console.entry.cmd_watch",
                     "Stream the console's live feed as plain timestamped lines (pipes, logs).",
                     EVERY, arg("--backlog", type=whole_number("backlog", 0), default=20, metavar="N",
                                help="recent entries to print first (default 20)"), needs_context=False),
    "guard": Command("agent_sync.cli.guard.cmd_guard",
                     "Install or remove the git pre-commit hook that refuses commits of files other agents have "
                     "locked (bypass once: git commit --no-verify).",
                     arg("action", choices=_guard_actions,
                         help="install or uninstall (check and trailers are run by the hooks)"),
                     arg("--trailers", action="store_true", help="install: also add Agent-Sync-Agent/-Task commit trailers"),
                     arg("hook_args", nargs="*", metavar="ARG", help=SUPPRESS), needs_context=False),
    "install": Command("agent_sync.cli.install.cmd_install",
                       "Install the archive, the skill and the Claude Code hooks into a repository, then test the hooks.",
                       REPO, arg("--no-hooks", action="store_true", help="install the skill only; locks are not enforced"),
                       arg("--settings", choices=("shared", "local"), default="shared",
                           help="shared: .claude/settings.json (default); local: .claude/settings.local.json"),
                       arg("--force", action="store_true",
                           help="downgrade a newer install, or install outside a git repository"),
                       arg("--agent", action="append", metavar="NAME",
                           help="agent to wire: claude (default), codex, gemini, cursor, windsurf, copilot, or all "
                                "(repeatable)"),
                       arg("--mcp", action="store_true", help="also add the agent-sync MCP server to the project's .mcp.json"),
                       arg("--shim", action="store_true",
                           help="also write ~/.local/bin/agent-sync, which runs the copy installed in the repository "
                                "you are in"),
                       needs_context=False),
    "uninstall": Command("agent_sync.cli.install.cmd_uninstall",
                         "Remove what install added: hook entries, the skill folder, the .gitignore line.", REPO,
                         arg("--purge", action="store_true", help="also delete .claude/coordination/ (all shared state)"),
                         needs_context=False),
    # both must answer with the engine down, and must not check in
    "remote": Command("agent_sync.cli.remote.cmd_remote",
                      "The etcd backend: members, leader, revision and this checkout's cache lag (status); or run "
                      "the cache watcher in the foreground (watcher; started automatically).",
                      arg("action", choices=("status", "watcher"), help="status or watcher"),
                      arg("--quiet", action="store_true", help="watcher: print nothing"), json_flag=True,
                      needs_context=False),
    "migrate": Command("agent_sync.cli.remote.cmd_migrate",
                       "Copy open tasks, live locks and unread messages from the local SQLite store into the "
                       "configured etcd namespace (which must be empty).", needs_context=False),
    "hook": Command("agent_sync.hooks.entry.run_hook", "Hook entry point: reads the agent's JSON payload on stdin.",
                    arg("words", nargs="...", metavar="[--agent NAME] EVENT",
                        help="session-start, user-prompt-submit, pre-tool-use, post-tool-use, stop, subagent-start, "
                             "session-end, idle-wake (the async Stop waiter)"), needs_context=False),
}


def build_parser(only=None):
    """The argparse parser: every command's, or with `only`, just that one's (the others are left out,
    which is what makes a command start fast)."""
    import argparse

    class Parser(argparse.ArgumentParser):
        """argparse, but a usage error is one line and our usage exit code."""

        def error(self, message):
            raise UsageError(f"{message} (see `{self.prog} --help`)")

    parser = Parser(prog=PROG, description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, command in COMMANDS.items():
        if only is None or name == only:
            p = sub.add_parser(name, help=command.help, description=command.help, epilog=EPILOG)
            for flags, options in command.arguments:
                if callable(options.get("choices")):
                    options = {**options, "choices": options["choices"]()}
                p.add_argument(*flags, **options)
            if command.json_flag:
                p.add_argument("--json", action="store_true", help="print one JSON document (see README: JSON output)")
    return parser


class Namespace:
    """What argparse would return: one attribute per argument, plus `command`."""

    def __init__(self, **values):
        self.__dict__.update(values)


def _dest(flags, options):
    return options.get("dest") or flags[0].lstrip("-").replace("-", "_")


def quick_parse(name, command, words):
    """The arguments of a plain command line, or None for anything argparse must answer (help, errors,
    abbreviations, short or repeated positional runs). argparse costs more to import and build than the
    command itself costs to run; it still writes every help text and error message."""
    arguments = command.arguments + ((arg("--json", action="store_true"),) if command.json_flag else ())
    options = {flags[0]: (flags, opts) for flags, opts in arguments if flags[0].startswith("-")}
    positionals = [(flags, opts) for flags, opts in arguments if not flags[0].startswith("-")]
    values, seen, loose, run_ended = {}, set(), [], False
    for flags, opts in arguments:
        values[_dest(flags, opts)] = False if opts.get("action") == "store_true" else opts.get("default")
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if not word.startswith("-"):
            if run_ended:
                return None  # positionals on both sides of an option: argparse's rules are subtle there
            loose.append(word)
            continue
        run_ended = bool(loose)
        flag, has_value, value = word.partition("=")
        spec = options.get(flag)
        if spec is None:
            return None
        flags, opts = spec
        seen.add(flag)
        action = opts.get("action")
        if action == "store_true":
            if has_value:
                return None
            values[_dest(flags, opts)] = True
            continue
        if not has_value:
            if i < len(words) and not words[i].startswith("-"):
                value, i = words[i], i + 1
            elif opts.get("nargs") == "?":
                value = opts["const"]
            else:
                return None
        if not _accepts(opts, value):
            return None
        value = opts["type"](value) if opts.get("type") else value
        dest = _dest(flags, opts)
        values[dest] = (values[dest] or []) + [value] if action == "append" else value
    if any(opts.get("required") and flags[0] not in seen for flags, opts in options.values()):
        return None
    if not _fill(positionals, loose, values):
        return None
    return Namespace(command=name, **values)


def _accepts(opts, value):
    if opts.get("type"):
        try:
            opts["type"](value)
        except Exception:  # noqa: BLE001 - argparse answers it, with its own message
            return False
    choices = opts.get("choices")
    return choices is None or value in (choices() if callable(choices) else choices)


def _fill(positionals, loose, values):
    """Give the loose words to the positionals as argparse would, when there is only one way to."""
    if len(positionals) > 1:
        return False
    if not positionals:
        return not loose
    flags, opts = positionals[0]
    nargs = opts.get("nargs")
    if nargs is None:
        if len(loose) != 1 or not _accepts(opts, loose[0]):
            return False
        values[flags[0]] = loose[0]
    elif nargs in ("+", "*"):
        if nargs == "+" and not loose:
            return False
        values[flags[0]] = list(loose)
    else:
        return False
    return True


def top_help():
    """`agent-sync --help`, from the table: argparse's layout without building thirty parsers."""
    width = _width()
    column = max(len(name) for name in COMMANDS) + 6
    lines = [f"usage: {PROG} [-h] [--version] COMMAND ...", "", *_wrap(DESCRIPTION, width), "",
             "positional arguments:", "  COMMAND"]
    for name, command in COMMANDS.items():
        text = _wrap(command.help, width - column)
        lines.append(f"    {name:{column - 4}}{text[0]}")
        lines += [" " * column + more for more in text[1:]]
    lines += ["", "options:", "  -h, --help  show this help message and exit",
              "  --version   show program's version number and exit", "", *_wrap(EPILOG, width)]
    return "\n".join(lines)


def _width():
    """argparse's width: $COLUMNS or the terminal's, less 2; 80 when neither is known."""
    import os

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        try:
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(columns - 2, 40)


def _wrap(text, width):
    """Greedy word wrap (textwrap imports re; this is all the help needs)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line]


class _Stdout:
    """sys.stdout, but a failed write says it was stdout: a closed pipe stays BrokenPipeError (exit 0,
    quietly), anything else (a full disk: `> /dev/full`) becomes OutputFailed (exit 9), never storage."""

    def __init__(self, stream):
        self._stream = stream

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def _guard(self, call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise errors.OutputFailed(exc.errno, f"cannot write to standard output: {exc.strerror or exc}") from None

    def write(self, text):
        return self._guard(self._stream.write, text)

    def flush(self):
        return self._guard(self._stream.flush)


def _quiet_stdout():
    """After a closed pipe: point stdout at devnull, so the interpreter's own last flush stays silent."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def main(argv=None):
    """Run one command; return its exit code. Only __main__ calls sys.exit."""
    argv = sys.argv[1:] if argv is None else argv
    perms.restrict_umask()  # before anything is created
    if sys.stdout is not None and not isinstance(sys.stdout, _Stdout):
        sys.stdout = _Stdout(sys.stdout)
    try:
        code = _main(argv)
        sys.stdout.flush()  # buffered output fails here, still inside our error handling
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return errors.OK
    except errors.OutputFailed as exc:
        _quiet_stdout()
        return fail(exc.strerror, exc.exit_code)


def _main(argv):
    try:
        from ..core import validate

        validate.argv_is_text(argv)
        first = argv[0] if argv else None
        if first == "--version" and len(argv) == 1:
            print(f"{PROG} {__version__}")
            return errors.OK
        if first in (None, "-h", "--help") and len(argv) <= 1:
            print(top_help())
            return errors.OK if first else errors.USAGE
        command = COMMANDS.get(first)
        if command is None:
            build_parser().parse_args(argv)  # argparse's own error: unknown command, with the choices
            return errors.USAGE
        if first == "hook":
            return command.load()(argv[1:])
        args = quick_parse(first, command, argv[1:])
        if args is None:  # help, an error, or a form the quick parser leaves to argparse
            args = build_parser(only=first).parse_args(argv)
        return run(command, args)
    except AgentSyncError as exc:
        return fail(exc, exc.exit_code)
    except KeyboardInterrupt:
        return 130


READ_ONLY = {"whoami", "agents", "status", "tasks", "locks", "inbox", "decisions"}


def nothing_here(name):
    """Refuse before any state is created: AGENT_SYNC_ROOT naming no folder (exit 2), or a read command
    outside every repository where no state exists (exit 4: there is nothing to show, and reading
    must not leave a .claude/ folder behind, not even in / or $HOME)."""
    import os

    from ..core import repo

    forced = os.environ.get("AGENT_SYNC_ROOT")
    if forced:
        if not os.path.isdir(os.path.expanduser(forced)):
            raise UsageError(f"AGENT_SYNC_ROOT={forced!r} is not an existing folder; nothing was created. "
                             "Point it at the repository's top folder")
        return
    if name not in READ_ONLY:
        return
    cwd = os.path.realpath(os.getcwd())
    if repo.nearest_checkout(cwd) is None and not os.path.exists(repo.db_path(repo.find_root(cwd))):
        raise errors.NotFound(f"nothing here: {cwd} is not inside a git repository and holds no agent-sync "
                              "state (nothing was created). Run it inside a repository")


def run(command, args):
    handler = command.load()
    ctx = None
    try:
        if not command.needs_context:
            return handler(None, args)
        from ..core.context import Context

        nothing_here(args.command)
        from ..core.backend import engine_errors

        with engine_errors():  # an etcd error the store left untranslated still gets its exit code
            ctx = Context()
            ctx.store.check_in()  # every command is a check-in, reads included (throttled)
            code = handler(ctx, args)
            if ctx.store.backend == "etcd":
                from ..core.etcd import cache

                cache.after_use(ctx)  # this checkout's hooks see the command's effect at once
        return code
    except (BrokenPipeError, errors.OutputFailed):
        raise  # stdout's trouble, not storage's: main() answers it
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
