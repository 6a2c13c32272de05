#!/usr/bin/env python3
"""Build dist/agent-sync.pyz: one executable file, byte-identical across builds.

    python3 build.py             write dist/agent-sync.pyz and the Claude Code plugin in dist/plugin/
    python3 build.py --check     exit 1 if the committed file differs from a fresh build
    python3 build.py --out DIR   write DIR/agent-sync.pyz and DIR/plugin/ instead (tests use this)

The archive holds the agent_sync package as source plus legacy-layout .pyc
files (zipimport never caches bytecode, so shipping it saves every launch
the compile step). Entries are sorted and timestamped from SOURCE_DATE_EPOCH.
Bytecode serves the Python minor version that built it; other versions fall
back to the .py beside it.

Bytecode is compiled in a fresh child interpreter with a fixed hash seed:
marshal's output depends on which strings the compiling process has already
interned, so compiling inside a process that imported other tools (pytest,
say) gave different bytes for the same sources.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import build_plugin

ROOT = Path(__file__).resolve().parent
PACKAGE = "agent_sync"
TARGET = ROOT / "dist" / "agent-sync.pyz"
SHEBANG = b"#!/usr/bin/env python3\n"
DEFAULT_EPOCH = 1767225600  # 2026-01-01T00:00:00Z, used when SOURCE_DATE_EPOCH is unset
STUB = "from agent_sync.__main__ import main\nmain()\n"
DATA_DIRS = {"skill": "skill", "hooks-templates": "hooks_templates"}


def date_time():
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    return time.gmtime(max(epoch, 315532800))[:6]  # zip dates start in 1980


def sources():
    """(archive name, source text) for every runtime file, sorted."""
    files = {"__main__.py": STUB}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        if "__pycache__" not in path.parts:
            files[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8")
    return files


def data_files():
    """Skill and hook templates travel inside the package, for `install`."""
    files = {}
    for folder, name in DATA_DIRS.items():
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.relative_to(ROOT / folder).as_posix()
                files[f"{PACKAGE}/_data/{name}/{rel}"] = path.read_bytes()
    return files


# Runs in the child: {archive name: source} on stdin, {archive name: .pyc as hex} on stdout.
# Unchecked-hash .pyc (the layout py_compile writes), so no mtime or absolute path leaks in.
COMPILER = """
import importlib.util, json, marshal, sys
out = {}
for name, text in json.loads(sys.stdin.buffer.read().decode("utf-8")).items():
    data = text.encode("utf-8")
    code = compile(data, name, "exec", dont_inherit=True, optimize=0)
    head = importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little") + importlib.util.source_hash(data)
    out[name] = (head + marshal.dumps(code)).hex()
sys.stdout.write(json.dumps(out))
"""


def compile_sources(files):
    """{archive name: .pyc bytes}, the same whichever process, folder or environment asks."""
    env = {"PYTHONHASHSEED": "0"}
    if os.name == "nt" and "SYSTEMROOT" in os.environ:
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]  # Windows needs it to start Python at all
    proc = subprocess.run([sys.executable, "-S", "-s", "-B", "-c", COMPILER], input=json.dumps(files).encode("utf-8"),
                          capture_output=True, env=env, cwd=str(ROOT), check=False)
    if proc.returncode != 0:
        raise SystemExit("build.py: compiling the sources failed:\n" + proc.stderr.decode("utf-8", "replace"))
    return {name: bytes.fromhex(data) for name, data in json.loads(proc.stdout).items()}


def entry(name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=date_time())
    info.compress_type = zipfile.ZIP_STORED  # no zlib work at import time
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.create_system = 3
    return info, data


def archive_bytes():
    entries = []
    files = sources()
    compiled = compile_sources(files)
    for name, text in files.items():
        entries.append(entry(name, text.encode("utf-8")))
        entries.append(entry(name + "c", compiled[name]))
    for name, data in data_files().items():
        entries.append(entry(name, data, executable=name.endswith("/scripts/agent-sync")))
    buffer = io.BytesIO()
    buffer.write(SHEBANG)
    with zipfile.ZipFile(buffer, "w") as zf:
        for info, data in sorted(entries, key=lambda e: e[0].filename):
            zf.writestr(info, data)
    return buffer.getvalue()


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
