"""Modules imported on first use: a command loads only the domain modules it calls.

Every module a process imports from the archive is start-up time, and the store
and the CLI handlers name every domain module while each command uses a few.
"""


class Module:
    """Stands in for a module until an attribute is asked for; then imports it and takes its place."""

    def __init__(self, name: str, namespace: dict[str, object]) -> None:
        self._name, self._namespace = name, namespace

    def __getattr__(self, attr: str) -> object:
        module = __import__(self._name, fromlist=["_"])
        self._namespace[self._name.rpartition(".")[2]] = module  # later calls reach the module itself
        return getattr(module, attr)


def modules(package: str, names: str, namespace: dict[str, object]) -> None:
    """Put a stand-in for each of `names` (space-separated modules of `package`) into `namespace`."""
    for name in names.split():
        namespace[name] = Module(f"{package}.{name}", namespace)
