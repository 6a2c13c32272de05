"""`agent-sync watch`: the console's feed as plain timestamped lines, for pipes and logs.

Read-only: it never writes to the database. SIGINT and SIGTERM stop it
cleanly (exit 0); a closed pipe (`watch | head`) does too.
"""

import os
import sys
import time

from ..core import live_view
from ..core.errors import Busy
from . import stopping
from .feed import Feed, format_line, utc_stamp


def run(ctx, interval, backlog, out=None):
    out = out or sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(errors="replace")  # a pipe in a legacy encoding still gets every line
    feed = Feed(backlog=backlog)
    with stopping.interrupt_on_termination():
        try:
            while True:
                for item in _tick(ctx, feed):
                    out.write(format_line(item, utc_stamp) + "\n")
                out.flush()
                time.sleep(interval)
        except KeyboardInterrupt:
            return 0
        except BrokenPipeError:
            _silence(out)
            return 0


def _tick(ctx, feed):
    ctx.tick()
    swapped = ctx.reopen_if_replaced()
    if swapped:
        print(f"agent-sync watch: {swapped}", file=sys.stderr, flush=True)
    try:
        return feed.poll(ctx) + feed.presence(live_view.agent_docs(ctx), ctx.now)
    except Busy:
        return []  # a writer held the database for long; try again next tick


def _silence(out):
    """The reader went away: point stdout at the null device so exit-time flushes stay quiet."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, out.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass
