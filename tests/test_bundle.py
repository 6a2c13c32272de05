"""The archive's module bundle (agent_sync/install/bundle.py) and the sqlite3 load without functools.

Black-box through the built archive: which entries its directory holds, which loader every module
comes from, what happens with another Python's bytecode, a recompressed copy, a module stored
without code; and on every Python here, that opening the database imports no functools and its
statement cache gives the right rows.
"""

import glob
import io
import json
import os
import subprocess
import sys
import zipfile

import pytest

import conftest

ROOT = conftest.ROOT
PYTHONS = sorted({os.path.realpath(p) for p in glob.glob("/root/.pyenv/versions/3.1[0-9].*/bin/python3")}
                 | {os.path.realpath(sys.executable)})

# Runs inside the archive: every module of the package imported; where each came from.
LOADERS = """
import sys
sys.path.insert(0, sys.argv[1])
import agent_sync, json
from agent_sync.install import archive
names = sorted(archive.unpack(open(sys.argv[1], "rb").read())[0])
modules = {}
for name in names:
    dotted = name[:-3].replace("/", ".")
    dotted = dotted[:-9] if dotted.endswith(".__init__") else dotted
    if dotted == "__main__" or dotted.endswith(".__main__"):
        continue  # importing one runs the program
    __import__(dotted)
    module = sys.modules[dotted]
    modules[dotted] = [type(module.__spec__.loader).__name__, module.__file__]
finder = next(f for f in sys.meta_path if type(f).__name__ == "Finder")
print(json.dumps({"modules": modules, "usable": finder.usable, "copy": finder.reader.copy is not None}))
"""


def _loaders(pyz, python=sys.executable):
    proc = subprocess.run([python, "-I", "-S", "-c", LOADERS, str(pyz)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _version(pyz, python=sys.executable):
    return subprocess.run([python, "-I", "-S", str(pyz), "--version"], capture_output=True, text=True, timeout=120)


def test_the_archive_directory_holds_a_handful_of_entries():
    names = zipfile.ZipFile(conftest.PYZ).namelist()
    code = sorted(n for n in names if not n.startswith("agent_sync/_data/"))
    assert code == ["__main__.py", "__main__.pyc", "agent_sync/__init__.py", "agent_sync/__init__.pyc",
                    "agent_sync/_modules", "agent_sync/install/__init__.py", "agent_sync/install/__init__.pyc",
                    "agent_sync/install/bundle.py", "agent_sync/install/bundle.pyc"]


def test_every_module_loads_from_the_bundle_with_its_own_bytecode():
    found = _loaders(conftest.PYZ)
    assert found["usable"] and not found["copy"]  # read at the entry's offset, bytecode of this Python
    modules = found["modules"]
    assert len(modules) > 50
    for name, (loader, path) in modules.items():
        by_zipimport = name in ("agent_sync", "agent_sync.install", "agent_sync.install.bundle")
        assert loader == ("zipimporter" if by_zipimport else "Finder"), name
        assert path.startswith(str(conftest.PYZ) + os.sep) and path.endswith(".pyc" if by_zipimport else ".py"), path


def test_another_pythons_bytecode_is_compiled_from_the_bundled_sources():
    others = [p for p in PYTHONS if _magic(p) != _magic(sys.executable)]
    assert others, "no Python 3.10+ with other bytecode here (pyenv's are expected)"
    for python in others:
        found = _loaders(conftest.PYZ, python)
        assert not found["usable"] and not found["copy"], python  # its own source compiled, read at the offset
        proc = _version(conftest.PYZ, python)
        assert proc.returncode == 0 and proc.stdout.startswith("agent-sync "), proc


def test_a_copy_restamped_for_another_python_loads_its_bytecode_at_the_offset(tmp_path):
    """What `install` writes for the interpreter that runs the hooks: every Python reads the bundle in place."""
    from agent_sync.install import archive

    for python in PYTHONS:
        out = tmp_path / f"{os.path.basename(os.path.dirname(os.path.dirname(python)))}.pyz"
        out.write_bytes(archive.restamp(conftest.PYZ.read_bytes(), (python,)))
        found = _loaders(out, python)
        assert found["usable"] and not found["copy"], python


def test_a_recompressed_copy_still_runs(tmp_path):
    """Someone re-zips the archive with deflate: the bundle is read whole, through zipimport."""
    out = tmp_path / "deflated.pyz"
    with zipfile.ZipFile(conftest.PYZ) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
    found = _loaders(out)
    assert found["usable"] and found["copy"]
    assert _version(out).stdout.startswith("agent-sync ")


def test_a_module_stored_without_code_runs_from_its_source(tmp_path):
    from agent_sync.install import archive

    sources, data, compiled, when, shebang = archive.unpack(conftest.PYZ.read_bytes())
    name = "agent_sync/cli/main.py"
    assert name in compiled
    del compiled[name]
    assert 'print(f"{PROG} {__version__}")' in sources[name]
    sources[name] = sources[name].replace('print(f"{PROG} {__version__}")', 'print(f"{PROG} (from source) {__version__}")')
    out = tmp_path / "partial.pyz"
    out.write_bytes(archive.pack(sources, data, compiled, when=when, shebang=shebang))
    proc = _version(out)
    assert proc.returncode == 0 and proc.stdout.startswith("agent-sync (from source) "), proc


def test_unpack_then_pack_gives_the_same_bytes():
    from agent_sync.install import archive

    built = conftest.PYZ.read_bytes()
    sources, data, compiled, when, shebang = archive.unpack(built)
    assert archive.pack(sources, data, compiled, when=when, shebang=shebang) == built


def test_a_traceback_shows_the_bundled_source_line(tmp_path):
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import traceback\n"
            "from agent_sync.core import numbers\n"
            "try:\n    numbers.parse_int('x', '--limit')\nexcept Exception:\n    traceback.print_exc()\n")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(conftest.PYZ)], capture_output=True,
                          text=True, timeout=60)
    assert f'File "{conftest.PYZ}{os.sep}agent_sync{os.sep}core{os.sep}numbers.py", line' in proc.stderr, proc.stderr
    assert "raise UsageError(" in proc.stderr  # the line itself, read through the loader's get_source


def test_the_bundle_reader_refuses_what_is_not_a_bundle():
    from agent_sync.install import bundle

    assert bundle.parse_head(b"PK\x03\x04" + bytes(40)) is None
    entry = bundle.pack(b"\x01\x02\x03\x04", {"pkg.a": (False, b"code", b"source"), "pkg": (True, b"", b"")})
    with pytest.raises(EOFError):
        bundle.parse_head(entry[:20])
    magic, modules = bundle.unpack(entry)
    assert magic == b"\x01\x02\x03\x04"
    assert modules == {"pkg": (True, b"", b""), "pkg.a": (False, b"code", b"source")}


def _magic(python):
    return subprocess.run([python, "-I", "-S", "-c", "import importlib.util,sys;"
                           "sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
                          capture_output=True, text=True, check=True).stdout


# ---- sqlite3 without functools -------------------------------------------------------------------

# Runs with the sources on sys.path: the C module through sqlite_module, then a statement cache that
# must evict (300 distinct statements, cache of 128), repeated statements, and the real functools after.
SQLITE = """
import sys
sys.path.insert(0, sys.argv[1])
from agent_sync.core import sqlite_module
before = "functools" in sys.modules
sqlite3 = sqlite_module.load()
after = "functools" in sys.modules
conn = sqlite3.connect(":memory:", isolation_level=None)
conn.execute("CREATE TABLE t (n INTEGER)")
for n in range(300):
    conn.execute("INSERT INTO t (n) VALUES (%d)" % n)
    conn.execute("INSERT INTO t (n) VALUES (?)", (n + 1000,))
rows = [conn.execute("SELECT count(*) FROM t WHERE n < %d" % k).fetchone()[0] for k in range(300)]
again = [conn.execute("SELECT count(*) FROM t WHERE n < %d" % k).fetchone()[0] for k in range(300)]
total = conn.execute("SELECT count(*), sum(n) FROM t").fetchone()
cursor = conn.execute("SELECT n FROM t WHERE n < 3 ORDER BY n")
inner = conn.execute("SELECT n FROM t WHERE n < 3 ORDER BY n").fetchall()  # the same statement, while one is open
outer = cursor.fetchall()
conn.close()
import functools
print(repr((before, after, rows == list(range(300)) == again, tuple(total), outer == inner == [(0,), (1,), (2,)],
            hasattr(functools, "reduce") and functools.lru_cache is not sqlite_module.lru_cache)))
"""


@pytest.mark.parametrize("python", PYTHONS)
def test_sqlite_loads_without_functools_and_caches_statements_right(python):
    proc = subprocess.run([python, "-I", "-S", "-c", SQLITE, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    before, after, same, total, cursors, real = eval(proc.stdout)  # noqa: S307 - our own repr
    assert (before, after) == (False, False)
    assert same and cursors and real
    assert total == (600, sum(range(300)) + sum(range(1000, 1300)))


def test_commands_that_open_the_database_import_no_functools(repo):
    """Through the archive, as people run it: `status` opens the database and leaves functools out."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[1:]\n"
            "import agent_sync.__main__ as entry\n"
            "leave = entry.leave\n"  # main() ends there, at once: no atexit handler runs
            "def report(code):\n"
            "    sys.stderr.write('functools=%s sqlite=%s' % ('functools' in sys.modules, '_sqlite3' in sys.modules))\n"
            "    leave(code)\n"
            "entry.leave = report; entry.main()\n")
    repo.ok("init")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(conftest.PYZ), "status"], cwd=repo.path,
                          env=conftest.clean_env(repo.home), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc
    expected = "functools=False" if sys.version_info >= (3, 11) else "functools="
    assert expected in proc.stderr and "sqlite=True" in proc.stderr, proc.stderr


def test_sqlite_with_functools_already_loaded_uses_it():
    code = ("import sys, functools; sys.path.insert(0, sys.argv[1])\n"
            "from agent_sync.core import sqlite_module\n"
            "s = sqlite_module.load(); print(s.connect(':memory:').execute('select 1').fetchone()[0])\n")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(ROOT)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "1", proc


def test_archive_entries_are_stored_uncompressed():
    with zipfile.ZipFile(io.BytesIO(conftest.PYZ.read_bytes())) as zf:
        assert {info.compress_type for info in zf.infolist()} == {zipfile.ZIP_STORED}
