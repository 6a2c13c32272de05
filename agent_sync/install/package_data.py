"""The files `install` ships: the skill and hook templates, and the archive itself.

They are found in three layouts: inside the .pyz (zipimport), in a pip
install (agent_sync/_data/ beside the modules), and in a source checkout
(skill/ and hooks-templates/ at the top of the tree).
"""

import io
import os
import re
import zipfile

import agent_sync

PACKAGE_DIR = os.path.dirname(agent_sync.__file__)  # as the loader spells it: get_data compares prefixes
SOURCE_DIRS = {"skill": "skill", "hooks_templates": "hooks-templates"}  # _data name: checkout folder
STUB = "from agent_sync.__main__ import main\nmain()\n"
SHEBANG = b"#!/usr/bin/env python3\n"
FIXED_DATE = (2026, 1, 1, 0, 0, 0)


def data(rel):
    """Bytes of a shipped data file, e.g. data("skill/SKILL.md"); FileNotFoundError if absent."""
    parts = rel.split("/")
    loader = agent_sync.__spec__.loader
    try:
        return loader.get_data(os.path.join(PACKAGE_DIR, "_data", *parts))
    except OSError:
        pass
    source = os.path.join(os.path.dirname(PACKAGE_DIR), SOURCE_DIRS.get(parts[0], parts[0]), *parts[1:])
    try:
        with open(source, "rb") as handle:
            return handle.read()
    except OSError:
        raise FileNotFoundError(f"agent-sync data file {rel} is missing from this installation") from None


def running_archive():
    """Path of the .pyz this code runs from, or None (pip install, source checkout)."""
    import zipimport

    loader = agent_sync.__spec__.loader
    return loader.archive if isinstance(loader, zipimport.zipimporter) else None


def archive_bytes():
    """The archive to install: the running .pyz itself, else one packed from the package files."""
    archive = running_archive()
    if archive:
        with open(archive, "rb") as handle:
            return handle.read()
    return _pack()


def _pack():
    """Like build.py: sources plus unchecked-hash .pyc files, so hooks skip the compile step."""
    import tempfile

    buffer = io.BytesIO()
    buffer.write(SHEBANG)
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w") as zf:
        _add(zf, "__main__.py", STUB.encode())
        for name, path in sorted(_package_files().items()):
            with open(path, "rb") as handle:
                _add(zf, name, handle.read(), executable=name.endswith("/scripts/agent-sync"))
            if name.endswith(".py"):
                _add(zf, name + "c", _compile(path, name, tmp))
    return buffer.getvalue()


def _compile(path, name, tmp):
    import py_compile

    out = os.path.join(tmp, "module.pyc")
    py_compile.compile(path, cfile=out, dfile=name, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    with open(out, "rb") as handle:
        return handle.read()


def _add(zf, name, payload, executable=False):
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    zf.writestr(info, payload)


def _package_files():
    """{archive name: path} for the modules and data of the package on disk."""
    files = {}
    top = os.path.dirname(os.path.abspath(PACKAGE_DIR))
    for folder, dirs, names in os.walk(os.path.abspath(PACKAGE_DIR)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in names:
            if not name.endswith((".pyc", ".pyo")):
                path = os.path.join(folder, name)
                files[os.path.relpath(path, top).replace(os.sep, "/")] = path
    if not any(name.startswith("agent_sync/_data/") for name in files):
        for data_name, source in SOURCE_DIRS.items():
            base = os.path.join(top, source)
            for folder, dirs, names in os.walk(base):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in names:
                    path = os.path.join(folder, name)
                    rel = os.path.relpath(path, base).replace(os.sep, "/")
                    files[f"agent_sync/_data/{data_name}/{rel}"] = path
    return files


def archive_version(path):
    """The __version__ inside an installed archive, or None if it cannot be read."""
    try:
        with zipfile.ZipFile(path) as zf:
            text = zf.read("agent_sync/__init__.py").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return None
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    return match.group(1) if match else None


def version_key(text):
    """A comparable key for versions like 0.1.0, 1.2.3rc1 (digits compared as numbers)."""
    return tuple((1, int(p), "") if p.isdigit() else (0, 0, p) for p in re.findall(r"\d+|[a-z]+", text.lower()))
