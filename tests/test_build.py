"""The archive is byte-identical however and wherever it is built, and tests never build into dist/."""

import glob
import io
import os
import subprocess
import sys
import tarfile
import zipfile

import conftest
import pytest
from conftest import ROOT, clean_env

SOURCES = ["build.py", "build_plugin.py", "agent_sync", "skill", "hooks-templates"]


def plain_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SOURCE_DATE_EPOCH", "AGENT_SYNC"))}
    return {**env, **extra}


def fresh_build(out, cwd, umask, **env):
    """build.py --out in a new interpreter, from `cwd`, under `umask`, with `env` on top of a plain environment."""
    base = plain_env(**env)
    code = f"import os, runpy, sys; os.umask({umask:#o}); sys.argv = sys.argv[1:]; sys.path.insert(0, os.path.dirname(sys.argv[0])); runpy.run_path(sys.argv[0], run_name='__main__')"
    proc = subprocess.run([sys.executable, "-c", code, str(ROOT / "build.py"), "--out", str(out)], cwd=str(cwd),
                          env=base, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return (out / "agent-sync.pyz").read_bytes()


def test_two_fresh_builds_in_different_places_and_environments_are_identical(tmp_path):
    (tmp_path / "a").mkdir()
    first = fresh_build(tmp_path / "out1", tmp_path / "a", 0o000, PYTHONHASHSEED="1", TZ="UTC", LC_ALL="C")
    second = fresh_build(tmp_path / "out2", "/", 0o077, PYTHONHASHSEED="4242", TZ="Pacific/Kiritimati",
                         LC_ALL="C.UTF-8", PYTHONOPTIMIZE="2", PYTHONDONTWRITEBYTECODE="1")
    assert first == second
    assert first == conftest.PYZ.read_bytes()  # and the copy the tests run is that same build


def test_building_inside_a_process_that_imported_test_tools_gives_the_same_bytes():
    # pytest and hypothesis are loaded here; they used to change two modules' bytecode.
    import hypothesis  # noqa: F401

    import build

    assert build.archive_bytes() == conftest.PYZ.read_bytes()


def test_tests_run_a_temporary_build_not_dist():
    assert conftest.PYZ.parent != ROOT / "dist" and ROOT not in conftest.PYZ.parents


def committed_tree(tmp_path):
    """The sources of HEAD, exported to a folder of their own, and HEAD's committed archive."""
    tree = tmp_path / "head"
    tree.mkdir()
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD", *SOURCES, "dist"],
                         capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(tree, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return tree


def test_the_committed_archive_is_the_build_of_the_committed_sources(tmp_path):
    tree = committed_tree(tmp_path)
    check = subprocess.run([sys.executable, str(tree / "build.py"), "--check"], cwd=str(tmp_path),
                           env=plain_env(), capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0, check.stderr
    source = tree / "agent_sync" / "core" / "errors.py"
    source.write_text(source.read_text() + "\n# changed\n")
    stale = subprocess.run([sys.executable, str(tree / "build.py"), "--check"], cwd=str(tmp_path),
                           env=plain_env(), capture_output=True, text=True, timeout=120, check=False)
    assert stale.returncode == 1 and "is stale" in stale.stderr


# ---- bytecode for the interpreter that runs the hooks ------------------------------------------------------

def _magic(python):
    return subprocess.run([python, "-I", "-S", "-c", "import importlib.util,sys;sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
                          capture_output=True, text=True, check=True).stdout


def _pyc_magics(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {zf.read(name)[:4].hex() for name in zf.namelist() if name.endswith(".pyc")}


def test_restamping_with_the_building_python_gives_the_archive_back():
    from agent_sync.install import archive

    built = conftest.PYZ.read_bytes()
    assert archive.restamp(built, (sys.executable,)) == built
    assert archive.for_interpreter(built, (sys.executable,)) == (built, False)


# Other interpreters (3.10+) whose bytecode differs from this one's.
OTHER_PYTHONS = sorted(p for p in {os.path.realpath(p) for p in glob.glob("/root/.pyenv/versions/3.1[0-9].*/bin/python3")
                                   + glob.glob("/usr/bin/python3.1[0-9]")} if _magic(p) != _magic(sys.executable))


@pytest.mark.skipif(not OTHER_PYTHONS, reason="no other Python 3.10+ on this machine")
@pytest.mark.parametrize("python", OTHER_PYTHONS)
def test_install_compiles_bytecode_with_the_python_that_runs_the_hooks(repo, tmp_path, python):
    fakebin = tmp_path / "fakebin"
    fakebin.mkdir()
    (fakebin / "python3").symlink_to(python)
    env = clean_env(repo.home, PATH=f"{fakebin}{os.pathsep}{os.environ['PATH']}")
    installed = repo.path / ".claude" / "skills" / "agent-sync" / "agent-sync.pyz"
    first = subprocess.run([sys.executable, str(conftest.PYZ), "install"], cwd=repo.path, env=env,
                           capture_output=True, text=True, timeout=300, check=False)
    assert first.returncode == 0, first
    assert "compiled its bytecode with `python3`" in first.stdout
    data = installed.read_bytes()
    assert _pyc_magics(data) == {_magic(python)}
    assert data != conftest.PYZ.read_bytes()
    again = subprocess.run([sys.executable, str(conftest.PYZ), "install"], cwd=repo.path, env=env,
                           capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0 and installed.read_bytes() == data  # the same bytes: nothing to rewrite
    from agent_sync.install import archive

    assert archive.restamp(data, (sys.executable,)) == conftest.PYZ.read_bytes()  # only the bytecode changed
