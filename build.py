#!/usr/bin/env python3
"""Build dist/agent-sync.pyz: one executable file, byte-identical across builds.

    python3 build.py             write dist/agent-sync.pyz and the Claude Code plugin in dist/plugin/
    python3 build.py --check     exit 1 if the committed file differs from a fresh build
    python3 build.py --out DIR   write DIR/agent-sync.pyz and DIR/plugin/ instead (tests use this)

The packing rules (sources plus legacy-layout .pyc, sorted entries, dates from
SOURCE_DATE_EPOCH, bytecode compiled in a fresh child with a fixed hash seed)
live in agent_sync/install/archive.py, which `install` uses too: it re-stamps
the bytecode of the copy it installs for the interpreter that runs the hooks.
"""

import argparse
import os
import sys
from pathlib import Path

import build_plugin

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from agent_sync.install import archive  # noqa: E402 - the one packer, shared with `install`

TARGET = ROOT / "dist" / "agent-sync.pyz"


def archive_bytes():
    try:
        return archive.build(ROOT / "agent_sync")
    except archive.CompileError as exc:
        raise SystemExit(f"build.py: compiling the sources failed:\n{exc}") from None


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o755)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build dist/agent-sync.pyz, byte-identical across builds.")
    parser.add_argument("--check", action="store_true", help="compare the committed build with a fresh one")
    parser.add_argument("--out", metavar="DIR", help="write agent-sync.pyz and plugin/ into DIR, not into dist/")
    args = parser.parse_args(argv)
    fresh = archive_bytes()
    plugin = build_plugin.files(fresh)
    if args.out:
        out = Path(args.out).resolve()
        write(out / TARGET.name, fresh)
        build_plugin.write_tree(out / "plugin", plugin)
        print(f"wrote {out / TARGET.name} ({len(fresh)} bytes) and {out / 'plugin'}/")
        return 0
    if args.check:
        current = TARGET.read_bytes() if TARGET.exists() else b""
        if current != fresh:
            print(f"{TARGET.relative_to(ROOT)} is stale: run `python3 build.py` and commit it "
                  f"(built with Python {sys.version_info[0]}.{sys.version_info[1]})", file=sys.stderr)
            return 1
        stale = build_plugin.differences(build_plugin.PLUGIN_DIR, plugin)
        if stale:
            print(f"dist/plugin is stale ({', '.join(stale)}): run `python3 build.py` and commit it", file=sys.stderr)
            return 1
        print(f"{TARGET.relative_to(ROOT)} ({len(fresh)} bytes) and dist/plugin/ are up to date")
        return 0
    write(TARGET, fresh)
    build_plugin.write_tree(build_plugin.PLUGIN_DIR, plugin)
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(fresh)} bytes) and dist/plugin/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
