"""Entry point. Hooks dispatch before any heavy import: start-up time is their latency.

This module is read by whatever Python the launcher found, so it is written
in syntax every Python parses (no f-strings): on one older than 3.10 it
looks for a newer one on PATH, or says in one line that there is none.
"""

import sys

MINIMUM = (3, 10)
NEWER = ("python3.14", "python3.13", "python3.12", "python3.11", "python3.10")
TOO_OLD = 127  # the launcher's code for "no usable Python"


def _dispatch(argv):
    if argv[:1] == ["hook"]:
        from agent_sync.hooks.entry import run_hook

        return run_hook(argv[1:])
    from agent_sync.cli.main import main

    return main(argv)


def launch():
    """Entry for the launcher: `python3 -I -S -c "...;launch()" agent-sync.pyz ARGS` (one interpreter start)."""
    sys.argv = sys.argv[1:]  # as if the archive had been run: [pyz, ARGS...]
    main()


def _run_newer(pyz, args):
    """Too old: exec the first python3.1x on PATH that is new enough, else one line and exit 127."""
    import os
    import subprocess

    check = "import sys; sys.exit(sys.version_info < %r)" % (MINIMUM,)
    for name in NEWER:
        for folder in os.environ.get("PATH", "").split(os.pathsep):
            path = os.path.join(folder or ".", name)
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                continue
            try:
                with open(os.devnull, "wb") as quiet:
                    usable = subprocess.call([path, "-c", check], stdout=quiet, stderr=quiet) == 0
            except OSError:
                usable = False
            if usable:
                code = "import sys;sys.path.insert(0,sys.argv[1]);from agent_sync.__main__ import launch;launch()"
                os.execv(path, [path, "-I", "-S", "-c", code, pyz] + list(args))
    found = ".".join(str(part) for part in sys.version_info[:3])
    sys.stderr.write("agent-sync: needs Python %d.%d or newer, but %s is Python %s and no newer python3.1x is on "
                     "PATH; install one or set AGENT_SYNC_PYTHON to it\n" % (MINIMUM + (sys.executable, found)))
    sys.exit(TOO_OLD)


def main():
    if sys.version_info < MINIMUM:
        _run_newer(sys.argv[0], sys.argv[1:])
    try:
        code = _dispatch(sys.argv[1:])
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - the one boundary that turns bugs into one line
        import os

        if os.environ.get("AGENT_SYNC_DEBUG"):
            raise
        sys.stderr.write("agent-sync: internal error: %s: %s (set AGENT_SYNC_DEBUG=1 for details)\n"
                         % (type(exc).__name__, exc))
        code = 1
    leave(code)


def leave(code):
    """Exit at once with `code`, for the CLI and the hooks alike. The output is flushed here, and every
    file and connection was closed by its with-block or finally clause; nothing runs at exit. The
    interpreter's own teardown would only free memory the system takes back anyway, and it costs a
    sixth of the start-up on every command and every tool call."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    try:
        from posix import _exit
    except ImportError:  # Windows
        from nt import _exit
    _exit(code)


if __name__ == "__main__":
    main()
