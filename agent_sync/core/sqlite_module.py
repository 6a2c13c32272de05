"""The sqlite3 C module, loaded without functools.

From Python 3.11 the C module imports functools as it loads, only to take `lru_cache` for each
connection's statement cache, and functools brings collections, itertools, operator, reprlib and
types: 2 ms of every command that opens the database. So while the C module loads, a stand-in
`functools` holding only `lru_cache` sits in sys.modules, and it is gone before anything else can
import it. A Python whose C module wants more of functools fails that load and gets the real one.
"""

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType


def lru_cache(maxsize: int | None = 128, typed: bool = False) -> "Callable[[Callable[[str], object]], Callable[[str], object]]":
    """What sqlite3 asks of functools.lru_cache: statements cached by their SQL text, at most
    `maxsize` of them (the oldest goes first; 0 caches nothing)."""

    def decorate(make: "Callable[[str], object]") -> "Callable[[str], object]":
        if maxsize is not None and maxsize <= 0:
            return make
        cache: dict[str, object] = {}

        def cached(sql: str) -> object:
            try:
                return cache[sql]
            except KeyError:
                pass
            statement = make(sql)
            if maxsize is not None and len(cache) >= maxsize:
                del cache[next(iter(cache))]
            cache[sql] = statement
            return statement

        return cached

    return decorate


def load() -> "ModuleType":
    """The `_sqlite3` C module (the `sqlite3` package where there is none)."""
    loaded = sys.modules.get("_sqlite3")
    if loaded is not None:
        return loaded
    if sys.version_info < (3, 11) or "functools" in sys.modules:
        return _plain()
    stand_in = type(sys)("functools")
    stand_in.lru_cache = lru_cache
    sys.modules["functools"] = stand_in
    try:
        import _sqlite3

        return _sqlite3
    except Exception:  # noqa: BLE001 - the C module wanted something else of functools (or is missing)
        sys.modules.pop("_sqlite3", None)
    finally:
        if sys.modules.get("functools") is stand_in:
            del sys.modules["functools"]
    return _plain()


def _plain() -> "ModuleType":
    try:  # the C module itself: sqlite3's package adds only datetime adapters (1-2 ms to import), unused here
        import _sqlite3

        return _sqlite3
    except ImportError:  # pragma: no cover - a Python whose sqlite3 is not the CPython C module
        import sqlite3

        return sqlite3
