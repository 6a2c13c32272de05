"""The .pyz's module bundle: every module of the package, bar two, in one archive entry.

zipimport reads the archive's whole directory at start-up, then reads and unmarshals each module
twice (once only to name its file), opening the archive for every read. Hooks and commands import
20 to 60 of our modules, so that was their largest cost after the interpreter itself. With the
bundle the directory holds a handful of entries, and a module costs one open, one read at the
offset the index gives, and one unmarshal.

The entry `agent_sync/_modules` (stored, never compressed) is:
    SIGNATURE (8 bytes), the bytecode's magic number (4), the index's length (4, little-endian),
    the index: marshal (version 2) of {module name: (is package, code offset, code length,
    source offset, source length)}, offsets counted from the end of the index;
    then the code (marshalled code objects, no .pyc header), then the sources (UTF-8).
Only this module, its package's __init__ and the package's own stay ordinary archive entries:
zipimport loads them, and agent_sync/__init__ puts the finder below first on sys.meta_path. A module stored without code, or with
bytecode of another Python (a copy `install` did not re-stamp), is compiled from its source.

Any Python 3 the launcher finds reads this file before the version check says it is too old, so
it keeps to syntax they all parse (no f-strings, no `X | Y`).
"""

import marshal
import sys

ENTRY = "_modules"  # inside the package folder of the archive
SIGNATURE = b"agsmods1"
MARSHAL_VERSION = 2  # no back-references: the same bytes from any process
HEAD_READ = 16384  # the first read takes the header and, usually, the whole index


def pack(magic, modules):
    """The entry's bytes. `modules`: {name: (is package, code bytes or b"", source bytes)}."""
    names = sorted(modules)
    index, at = {}, 0
    for name in names:
        index[name] = [modules[name][0], at, len(modules[name][1]), 0, len(modules[name][2])]
        at += len(modules[name][1])
    for name in names:
        index[name][3] = at
        at += index[name][4]
    raw = marshal.dumps({name: tuple(index[name]) for name in names}, MARSHAL_VERSION)
    return b"".join([SIGNATURE, magic, len(raw).to_bytes(4, "little"), raw]
                    + [modules[n][1] for n in names] + [modules[n][2] for n in names])


def parse_head(head):
    """(magic, index, where the body starts) from the entry's first bytes; None if not a bundle.
    Raises EOFError when `head` ends inside the index."""
    if head[:8] != SIGNATURE:
        return None
    size = int.from_bytes(head[12:16], "little")
    if len(head) < 16 + size:
        raise EOFError(16 + size)
    return bytes(head[8:12]), marshal.loads(head[16:16 + size]), 16 + size


def unpack(entry):
    """(magic, {name: (is package, code bytes, source bytes)}) from the entry's bytes."""
    magic, index, body = parse_head(entry)
    return magic, {name: (package, entry[body + code_at:body + code_at + code_len],
                          entry[body + source_at:body + source_at + source_len])
                   for name, (package, code_at, code_len, source_at, source_len) in index.items()}


class _Reader:
    """Byte ranges of the entry: read from the archive at the entry's offset, or from a copy in memory."""

    def __init__(self, archive, start, copy):
        self.archive, self.start, self.copy = archive, start, copy

    def read(self, offset, length):
        if self.copy is not None:
            return self.copy[offset:offset + length]
        # Opened per read, never held: Windows could not replace an archive a long-lived process keeps open.
        with open(self.archive, "rb") as handle:
            handle.seek(self.start + offset)
            return handle.read(length)


def _locate(zipimporter, key):
    """(reader, head bytes) for the entry `key`, or None if the archive has no such entry.

    The entry's offset comes from zipimport's own table of the archive (private, so every step is
    checked, and anything unexpected reads the whole entry, 2 MB, through the public get_data instead:
    correct, and about 2 ms slower)."""
    archive = zipimporter.archive
    try:
        files = getattr(zipimporter, "_get_files", None)  # 3.13 reads the table through a method
        table = files() if files is not None else zipimporter._files
        _path, compress, size, _size, header = table[key][:5]
        if compress == 0:
            with open(archive, "rb") as handle:
                handle.seek(header)
                local = handle.read(30)
                if local[:4] == b"PK\x03\x04":
                    start = header + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
                    handle.seek(start)
                    head = handle.read(min(size, HEAD_READ))
                    if head[:8] == SIGNATURE:
                        return _Reader(archive, start, None), head
    except (AttributeError, KeyError, IndexError, TypeError, ValueError, OSError):
        pass
    try:
        copy = zipimporter.get_data(key)
    except OSError:
        return None
    return _Reader(archive, 0, copy), copy


class Finder:
    """Finds and loads the package's modules from the bundle (a meta path finder and loader)."""

    def __init__(self, package, package_dir, sep, reader, head, spec_type):
        self.prefix = package + "."
        self.package_dir = package_dir  # "<archive><sep><package>", as zipimport spells it
        self.sep = sep
        self.reader = reader
        self.spec_type = spec_type
        try:
            parsed = parse_head(head)
        except EOFError as short:
            parsed = parse_head(reader.read(0, short.args[0]))
        self.magic, self.index, self.body = parsed
        self.usable = self.magic == _interpreter_magic()

    def find_spec(self, name, path=None, target=None):
        entry = self.index.get(name) if name.startswith(self.prefix) else None
        if entry is None:
            return None
        spec = self.spec_type(name, self, origin=self.get_filename(name), is_package=entry[0])
        if entry[0]:
            spec.submodule_search_locations = [spec.origin.rsplit(self.sep, 1)[0]]
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__file__ = module.__spec__.origin  # set here, not through has_location: no __cached__ to work out
        exec(self.get_code(module.__spec__.name), module.__dict__)

    # What runpy, linecache, inspect and importlib ask of a loader.
    def get_code(self, name):
        package, code_at, code_len, _at, _len = self.index[name]
        path = self.get_filename(name)
        if not (code_len and self.usable):
            return compile(self._source_bytes(name), path, "exec", dont_inherit=True)
        code = marshal.loads(self.reader.read(self.body + code_at, code_len))
        if _fix_filename is not None:
            _fix_filename(code, path)  # tracebacks name the file inside the archive, as for compiled source
        return code

    def get_source(self, name):
        return self._source_bytes(name).decode("utf-8")

    def get_filename(self, name):
        tail = self.sep.join(name[len(self.prefix):].split("."))
        return self.package_dir + self.sep + tail + (self.sep + "__init__.py" if self.index[name][0] else ".py")

    def is_package(self, name):
        return self.index[name][0]

    def _source_bytes(self, name):
        _package, _code_at, _code_len, source_at, source_len = self.index[name]
        return bytes(self.reader.read(self.body + source_at, source_len))


_fix_filename = getattr(sys.modules.get("_imp"), "_fix_co_filename", None)  # what importlib's loaders use


def _interpreter_magic():
    external = sys.modules.get("_frozen_importlib_external")
    if external is not None:
        return external.MAGIC_NUMBER
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER


def install(package_spec):
    """Put the bundle's finder first on sys.meta_path when the package runs from an archive holding one."""
    loader = package_spec.loader
    if type(loader).__name__ != "zipimporter" or not package_spec.submodule_search_locations:
        return  # a source checkout or a pip install: the usual finders are already fast
    package_dir = package_spec.submodule_search_locations[0]
    if len(package_dir) <= len(loader.archive) or any(isinstance(f, Finder) for f in sys.meta_path):
        return
    sep = package_dir[len(loader.archive)]
    found = _locate(loader, package_dir[len(loader.archive) + 1:] + sep + ENTRY)
    if found is None:
        return
    bootstrap = sys.modules.get("_frozen_importlib")
    if bootstrap is not None:
        spec_type = bootstrap.ModuleSpec
    else:
        from importlib.machinery import ModuleSpec as spec_type
    package = package_spec.name
    sys.meta_path.insert(0, Finder(package, package_dir, sep, found[0], found[1], spec_type))
