"""The files `install` ships: the skill and hook templates, and the archive itself.

They are found in three layouts: inside the .pyz (zipimport), in a pip
install (agent_sync/_data/ beside the modules), and in a source checkout
(skill/ and hooks-templates/ at the top of the tree).
"""

import os
import re
import zipfile

import agent_sync

PACKAGE_DIR = os.path.dirname(agent_sync.__file__)  # as the loader spells it: get_data compares prefixes
SOURCE_DIRS = {"skill": "skill", "hooks_templates": "hooks-templates"}  # _data name: checkout folder


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
    from . import archive as packer

    return packer.build(PACKAGE_DIR)


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
