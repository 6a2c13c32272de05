"""The archive is byte-identical however and wherever it is built, and tests never build into dist/."""

import io
import os
import subprocess
import sys
import tarfile

import conftest
from conftest import ROOT

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
