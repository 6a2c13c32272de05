"""Entry point. Hooks dispatch before any heavy import: start-up time is their latency."""

import sys


def _dispatch(argv):
    if argv[:1] == ["hook"]:
        from agent_sync.hooks.entry import run_hook

        return run_hook(argv[1:])
    from agent_sync.cli.main import main

    return main(argv)


def main():
    try:
        code = _dispatch(sys.argv[1:])
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - the one boundary that turns bugs into one line
        import os

        if os.environ.get("AGENT_SYNC_DEBUG"):
            raise
        print(f"agent-sync: internal error: {type(exc).__name__}: {exc} (set AGENT_SYNC_DEBUG=1 for details)",
              file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
    except (BrokenPipeError, OSError):
        pass
    sys.exit(code)


if __name__ == "__main__":
    main()
