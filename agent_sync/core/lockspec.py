"""What a lock covers: one file, a directory, a glob pattern, or a named resource.

The kinds and `overlaps` serve the pre-tool hook's os-free answer (quickstamp, indexfile) too, so
only the functions that resolve paths on disk import `os` and `repo`.
"""

from . import validate, wildmatch
from .errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .context import Context

FILE, DIR, GLOB, RESOURCE = "file", "dir", "glob", "resource"
MAX_PATH_BYTES = 4096  # PATH_MAX on Linux: no real file has a longer name, and the database stays small
MAX_PATHS = 256  # per lock, unlock or renew request (all or nothing, in one transaction)


class Spec:
    """A lock target: `key` compares (folded), `path` shows."""

    __slots__ = ("key", "path", "kind")

    def __init__(self, key: str, path: str, kind: str) -> None:
        self.key, self.path, self.kind = key, path, kind

    def __repr__(self) -> str:
        return f"Spec({self.path!r}, {self.kind})"


def parse(ctx: "Context", raw: str, resource: bool = False) -> Spec:
    """The Spec for a command-line argument, resolved against the caller's cwd."""
    if resource:
        name = validate.text(raw, "resource")
        return Spec("resource:" + validate.key(name), name, RESOURCE)
    if not raw or "\x00" in raw:
        raise UsageError("a path must be a non-empty string without NUL bytes")
    size = len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_PATH_BYTES:
        raise UsageError(f"a path is {size} bytes long; the limit is {MAX_PATH_BYTES}")
    if wildmatch.is_pattern(raw):
        return _pattern(ctx, raw)
    import os

    rel = ctx.repo_path(raw)
    return of_path(rel, ctx.tree, ctx.store.case_insensitive, raw.endswith(("/", os.sep)))


def parse_many(ctx: "Context", raws: "list[str]", resource: bool = False) -> "list[Spec]":
    """parse() for each, after refusing more than MAX_PATHS in one request."""
    if len(raws) > MAX_PATHS:
        raise UsageError(f"{len(raws)} paths in one request; the limit is {MAX_PATHS}")
    return [parse(ctx, raw, resource) for raw in raws]


def of_path(rel: str, tree: str, case_insensitive: bool, is_dir: bool = False) -> Spec:
    """The Spec for a resolved repo path: the root, a directory, a pattern or a file."""
    import os

    from . import repo

    if rel == "":
        return Spec("**", "**", GLOB)
    if wildmatch.is_pattern(rel):
        return Spec(repo.fold(rel, case_insensitive), rel, GLOB)
    if is_dir or os.path.isdir(os.path.join(tree, rel)):
        return Spec(repo.fold(rel, case_insensitive) + "/", rel + "/", DIR)
    return Spec(repo.fold(rel, case_insensitive), rel, FILE)


def _pattern(ctx: "Context", raw: str) -> Spec:
    """Resolve the literal directories before the first glob segment; keep the rest."""
    import os

    parts = raw.replace(os.sep, "/").split("/")
    first = next(i for i, part in enumerate(parts) if wildmatch.is_pattern(part))
    tail = parts[first:]
    if any(part in ("..", ".") for part in tail):
        raise UsageError(f"{raw}: '..' and '.' are not allowed after a wildcard")
    head = "/".join(parts[:first]) or "."
    if raw.startswith("/") and first == 1:
        head = "/"
    base = ctx.repo_path(head)
    pattern = "/".join(p for p in ([base] if base else []) + tail)
    if pattern.endswith("/"):
        pattern += "**"
    return Spec(ctx.key(pattern), pattern, GLOB)


def overlaps(a_key: str, a_kind: str, b_key: str, b_kind: str) -> bool:
    """Could locks on a and b ever cover the same thing? Exact, so never a missed conflict."""
    if a_kind == RESOURCE or b_kind == RESOURCE:
        return a_kind == b_kind and a_key == b_key
    a_head, b_head = _head(a_key), _head(b_key)
    if not (a_head.startswith(b_head) or b_head.startswith(a_head)):
        return False  # every path a covers starts with a_head, every path b covers with b_head
    if a_kind == FILE and a_head == a_key:
        return wildmatch.covers(b_key, a_key)  # a plain file: does b cover it?
    if b_kind == FILE and b_head == b_key:
        return wildmatch.covers(a_key, b_key)
    return wildmatch.may_overlap(a_key, b_key)


def _head(key: str) -> str:
    """The literal text every path a lock on `key` covers starts with (the hook's cheap pre-filter)."""
    end = len(key)
    for special in "*?[\\":
        found = key.find(special, 0, end)
        if found >= 0:
            end = found
    if end == len(key) and key.endswith("/"):
        end -= 1  # a directory lock also covers the directory itself
    return key[:end]


def conflicts(a_mode: str, b_mode: str) -> bool:
    return a_mode == "exclusive" or b_mode == "exclusive"


def from_repo_path(ctx: "Context", rel: str) -> Spec:
    """The Spec for a path already stored repo-relative (a task's files)."""
    return of_path(rel.rstrip("/"), ctx.tree, ctx.store.case_insensitive, is_dir=rel.endswith("/"))
