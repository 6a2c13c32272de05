"""The one packer of agent-sync.pyz: build.py, `install` from a pip install or a checkout, and the
bytecode re-stamp all go through here, so the stub, the dates and the bytecode rules are written once.

Every module ships as source plus bytecode: zipimport never writes bytecode, so without it every
start compiles every module it imports. Three modules are ordinary archive entries, each with a
legacy-layout .pyc beside it (the root __main__, the package's __init__ and its bundle reader);
all the others live in one entry, the bundle (its format and finder: install/bundle.py), which
keeps the archive's directory small and each import to one read. Bytecode serves one Python minor
version (its magic number), so `install` re-stamps the copy it installs with bytecode compiled by
the interpreter that will run the hooks when that one's magic differs. Everything is deterministic:
sorted entries, fixed dates, unchecked-hash .pyc compiled in a fresh child with a fixed hash seed
(marshal's output depends on which strings the compiling process has interned).
"""

import io
import json
import os
import subprocess
import sys
import time
import zipfile

from . import bundle

SHEBANG = b"#!/usr/bin/env python3\n"
STUB = "from agent_sync.__main__ import main\nmain()\n"
DEFAULT_EPOCH = 1767225600  # 2026-01-01T00:00:00Z, used when SOURCE_DATE_EPOCH is unset
PACKAGE = "agent_sync"
CHECKOUT_DATA = {"skill": "skill", "hooks_templates": "hooks-templates"}  # name under _data/: checkout folder
EXECUTABLE = "/scripts/agent-sync"  # data entries ending so keep their x bit
ENTRY_MODULES = ("__main__.py", f"{PACKAGE}/__init__.py", f"{PACKAGE}/install/__init__.py",
                 f"{PACKAGE}/install/bundle.py")  # zipimport loads these; the bundle holds the rest
BUNDLE = f"{PACKAGE}/{bundle.ENTRY}"

# Runs in the child: {archive name: source} on stdin, {archive name: .pyc as hex} on stdout.
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
MAGIC = "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"


class CompileError(Exception):
    """The child interpreter could not compile the sources (or not start)."""


def date_time():
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    return time.gmtime(max(epoch, 315532800))[:6]  # zip dates start in 1980


def collect(package_dir):
    """({archive name: source text}, {archive name: data bytes}) for a package folder on disk.

    Data comes from agent_sync/_data/ (a pip install), else from the checkout's skill/ and
    hooks-templates/ beside the package."""
    top = os.path.dirname(os.path.abspath(package_dir))
    sources, data = {"__main__.py": STUB}, {}
    for path in _files(os.path.join(top, PACKAGE)):
        rel = os.path.relpath(path, top).replace(os.sep, "/")
        if rel.endswith(".py"):
            with open(path, encoding="utf-8") as handle:
                sources[rel] = handle.read()
        elif rel.startswith(f"{PACKAGE}/_data/"):
            data[rel] = _read(path)
    if not data:
        for name, folder in CHECKOUT_DATA.items():
            base = os.path.join(top, folder)
            for path in _files(base):
                data[f"{PACKAGE}/_data/{name}/" + os.path.relpath(path, base).replace(os.sep, "/")] = _read(path)
    return sources, data


def _files(base):
    found = []
    for folder, dirs, names in os.walk(base):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found += [os.path.join(folder, n) for n in names if not n.endswith((".pyc", ".pyo"))]
    return sorted(found)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def compile_sources(sources, python=(sys.executable,), cwd=None):
    """{archive name: .pyc bytes} compiled by `python` (an argv prefix), the same from any process."""
    # PYTHON* variables could put other modules first or change the seed; a shim (pyenv) needs the rest.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    try:
        proc = subprocess.run([*python, "-S", "-s", "-B", "-c", COMPILER], input=json.dumps(sources).encode("utf-8"),
                              capture_output=True, env=env, cwd=cwd, check=False)
    except OSError as exc:
        raise CompileError(f"cannot run {python[0]}: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        raise CompileError(proc.stderr.decode("utf-8", "replace").strip()[-2000:])
    return {name: bytes.fromhex(pyc) for name, pyc in json.loads(proc.stdout).items()}


def _entry(name, when, executable=False):
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_STORED  # no zlib work at import time
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.create_system = 3
    return info


def pack(sources, data, compiled, when=None, shebang=SHEBANG):
    """The archive's bytes: shebang, then the entries sorted by name. `compiled`: {source name: .pyc
    bytes}; a module inside the bundle keeps only the magic and the code, and one without bytecode
    there is compiled from its source when imported."""
    when = when or date_time()
    entries, bundled = [], {}
    for name, text in sources.items():
        if name in ENTRY_MODULES:
            entries.append((_entry(name, when), text.encode("utf-8")))
            if name in compiled:
                entries.append((_entry(name + "c", when), compiled[name]))
        else:
            module = name[:-3].replace("/", ".")
            package = module.endswith(".__init__")
            code = compiled[name][16:] if name in compiled else b""
            bundled[module[:-9] if package else module] = (package, code, text.encode("utf-8"))
    magic = next((compiled[name][:4] for name in sorted(compiled)), bytes(4))
    entries.append((_entry(BUNDLE, when), bundle.pack(magic, bundled)))
    for name, payload in data.items():
        entries.append((_entry(name, when, executable=name.endswith(EXECUTABLE)), payload))
    buffer = io.BytesIO()
    buffer.write(shebang)
    with zipfile.ZipFile(buffer, "w") as zf:
        for info, payload in sorted(entries, key=lambda e: e[0].filename):
            zf.writestr(info, payload)
    return buffer.getvalue()


def unpack(archive):
    """(sources, data, compiled, date, shebang) of an archive: what `pack` takes back to make it again.
    A bundled module's .pyc comes back as its magic, 12 zero bytes and its code."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        payloads = {info.filename: zf.read(info) for info in zf.infolist()}
        when = zf.getinfo(BUNDLE).date_time
    sources, compiled = {}, {}
    for name in ENTRY_MODULES:
        sources[name] = payloads.pop(name).decode("utf-8")
        if name + "c" in payloads:
            compiled[name] = payloads.pop(name + "c")
    magic, modules = bundle.unpack(payloads.pop(BUNDLE))
    for module, (package, code, source) in modules.items():
        name = module.replace(".", "/") + ("/__init__.py" if package else ".py")
        sources[name] = source.decode("utf-8")
        if code:
            compiled[name] = magic + bytes(12) + code
    return sources, payloads, compiled, when, archive[: archive.index(b"PK\x03\x04")]


def build(package_dir, python=(sys.executable,)):
    """A fresh archive of the package folder, with bytecode from `python`."""
    sources, data = collect(package_dir)
    return pack(sources, data, compile_sources(sources, python))


def bytecode_magic(archive):
    """The magic number of the archive's bytecode (4 bytes), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf, zf.open(BUNDLE) as entry:
            head = entry.read(len(bundle.SIGNATURE) + 4)
    except (KeyError, zipfile.BadZipFile):
        return None
    return head[-4:] if head.startswith(bundle.SIGNATURE) else None


def interpreter_magic(python, cwd=None):
    """The magic number of the interpreter `python` (an argv prefix) starts, or None if it does not run."""
    try:
        proc = subprocess.run([*python, "-I", "-S", "-c", MAGIC], capture_output=True, cwd=cwd, timeout=60,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    try:
        return bytes.fromhex(proc.stdout.decode("ascii")) if proc.returncode == 0 else None
    except (UnicodeDecodeError, ValueError):
        return None


def restamp(archive, python, cwd=None):
    """The same archive with every module's bytecode compiled by `python`; everything else (sources,
    data, dates, order, shebang) kept."""
    sources, data, _compiled, when, shebang = unpack(archive)
    return pack(sources, data, compile_sources(sources, python, cwd=cwd), when=when, shebang=shebang)


def for_interpreter(archive, python, cwd=None):
    """(archive, changed): re-stamped for `python` when its magic differs from the archive's bytecode.
    An interpreter that does not run leaves the archive as it is (the post-install probe says why)."""
    magic = interpreter_magic(python, cwd)
    if magic is None or magic == bytecode_magic(archive):
        return archive, False
    return restamp(archive, python, cwd), True
