"""The package's layering rules, read from the source with `ast` (lazy imports included).

- core/ imports only the standard library and core/ itself, and never argparse or curses;
- hooks/ never imports argparse (hooks run on every tool call);
- SQL lives only in core/.
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "agent_sync"
SQL = re.compile(r"\b(SELECT\b.+\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|TRIGGER)"
                 r"|DROP\s+TABLE|PRAGMA\s+\w+|BEGIN\s+IMMEDIATE)\b", re.IGNORECASE | re.DOTALL)
ADAPTERS = ("cli", "hooks", "install", "console", "mcp")


def modules(package=None):
    root = PACKAGE / package if package else PACKAGE
    return sorted(p for p in root.rglob("*.py") if "_data" not in p.parts)


def imported(path, rel=None):
    """Absolute dotted names of everything `path` imports, at any depth of the module.

    `rel` is the module's path inside the package (default: where `path` lies).
    """
    here = ["agent_sync", *(rel or path.relative_to(PACKAGE)).with_suffix("").parts]
    if here[-1] == "__init__":
        here.pop()
    package = here if path.name == "__init__.py" else here[:-1]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            if node.module:
                names.append(target)
            names += [f"{target}.{alias.name}" for alias in node.names]
    return names


def test_the_package_shows_its_layers():
    entries = sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    assert entries == ["__init__.py", "__main__.py", "cli", "console", "core", "hooks", "install", "mcp"]


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: p.name)
def test_core_imports_nothing_outside_core(path):
    bad = []
    for name in imported(path):
        top = name.split(".")
        if top[0] in ("argparse", "curses", "_curses"):
            bad.append(name)
        elif top[0] == "agent_sync" and len(top) > 1 and top[1] in ADAPTERS:
            bad.append(name)
    assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


@pytest.mark.parametrize("path", modules("hooks"), ids=lambda p: p.name)
def test_hooks_never_import_argparse(path):
    assert not [n for n in imported(path) if n.split(".")[0] == "argparse"]


def string_constants(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


@pytest.mark.parametrize("path", [p for p in modules() if "core" not in p.relative_to(PACKAGE).parts],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_sql_outside_core(path):
    found = [(line, text[:60]) for line, text in string_constants(path) if SQL.search(text)]
    assert not found, f"SQL outside core/ in {path.relative_to(PACKAGE)}: {found}"


def test_the_rules_catch_what_they_claim(tmp_path):
    """The checks themselves: a bad module must be reported, so these tests can fail."""
    bad = tmp_path / "probe.py"
    bad.write_text("def f():\n    import argparse\n    from ..cli import main\n    return 'SELECT id FROM x'\n")
    names = imported(bad, rel=Path("core") / "probe.py")
    assert "argparse" in names and "agent_sync.cli.main" in names
    assert any(SQL.search(text) for _line, text in string_constants(bad))


@pytest.mark.parametrize("path", [p for p in modules() if "core" not in p.relative_to(PACKAGE).parts],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_store_speaks_sqlite3(path):
    """sqlite3's errors become ours inside core.db; adapters catch only agent-sync's own errors."""
    assert not [n for n in imported(path) if n.split(".")[0] == "sqlite3"]


TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("path", sorted(TESTS.rglob("*.py")), ids=lambda p: str(p.relative_to(TESTS)))
def test_tests_never_import_bench(path):
    """bench/ measures; tests prove. Shared scenarios and the environment helper live in tests/."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
        assert not any(n == "bench" or n.startswith("bench.") for n in names), f"{path.name} imports {names}"
