"""The `console` and `watch` command handlers. Nothing heavy is imported until they run.

Both build their own Context instead of the CLI's: the console speaks as the
reserved operator identity, and `watch` only reads, so neither checks the
caller in as an agent.
"""

import sys

from ..core.durations import parse_duration
from ..core.errors import UsageError
from ..core.identity import OPERATOR, Identity

MIN_INTERVAL = 0.05


class NoTerminal(UsageError):
    """The console needs an interactive terminal and the curses module."""


def _interval(raw):
    return max(MIN_INTERVAL, parse_duration(raw, bare_unit="s"))


def _context(source):
    from ..core.context import Context

    return Context(me=Identity(OPERATOR, source))


def cmd_console(_ctx, args):
    interval = _interval(args.interval)
    try:
        from . import app
    except ImportError as exc:
        if exc.name not in ("curses", "_curses"):
            raise
        raise NoTerminal("console needs Python's curses module, which this Python lacks "
                         "(on Windows: pip install windows-curses); `agent-sync watch` works without it") from None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise NoTerminal("console needs an interactive terminal (stdin and stdout); "
                         "to follow the feed in a pipe or log, use `agent-sync watch`")
    ctx = _context("console")
    try:
        app.run(ctx, interval, args.name)
    finally:
        ctx.close()
    return 0


def cmd_watch(_ctx, args):
    from . import watch

    interval = _interval(args.interval)
    if args.backlog < 0:
        raise UsageError("--backlog must be 0 or more")
    try:
        ctx = _context("watch")
    except KeyboardInterrupt:
        return 0  # stopped while starting: still a clean stop
    try:
        return watch.run(ctx, interval, args.backlog)
    finally:
        ctx.close()
