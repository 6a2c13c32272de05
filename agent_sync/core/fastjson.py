"""JSON without importing the `json` package (which pulls in `re`): hook payloads and --json output.

The C scanner behind json.loads is used directly; any failure means "not JSON".
"""

import _json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

_WS = " \t\n\r"


class _Options:
    strict = False
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float
    memo: dict[str, str] = {}


_scan = _json.make_scanner(_Options())  # type: ignore[arg-type]  # it reads these attributes


def loads(text: object) -> object:
    """The decoded value, or None when text is not one complete JSON document."""
    if not isinstance(text, str):
        return None
    start = len(text) - len(text.lstrip(_WS))
    try:
        value, end = _scan(text, start)
    except (StopIteration, ValueError, RecursionError, SystemError):  # the C scanner fails in these ways
        return None
    if text[end:].strip(_WS):
        return None
    return value


def _unsupported(value):
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# json.dumps(value, ensure_ascii=False)'s own C encoder, built once: hook answers go out without `json`.
_encode = _json.make_encoder(None, _unsupported, _json.encode_basestring, None, ": ", ", ", False, False, True)


def dumps(value: object) -> str:
    """The same text as json.dumps(value, ensure_ascii=False), for the plain documents hooks answer with."""
    return "".join(_encode(value, 0))


# ---------------------------------------------------------------------------
# Payloads of any size, read as a stream

SMALL = 1 << 20          # a payload up to this is read whole and decoded as it is
KEEP_STRING = 8 << 20    # a longer string (a Write's content) is read and dropped: no path is this long
KEEP_TOTAL = 64 << 20    # the most of a payload kept once such strings are dropped
CHUNK = 1 << 20
UNREAD = "\x00agent-sync: too long to keep\x00"  # what a dropped string decodes to; never a path or command
_UNREAD_JSON = b'"\\u0000agent-sync: too long to keep\\u0000"'


class TooLarge(Exception):
    """The payload's structure, long strings aside, is over KEEP_TOTAL."""


class Payload:
    """The decoded payload (None when not JSON), whether a string was dropped, and the bytes read."""

    def __init__(self, value: object, dropped: bool = False, size: int = 0) -> None:
        self.value, self.dropped, self.size = value, dropped, size


def read(stream: "BinaryIO") -> Payload:
    """Read `stream` (binary) to its end and decode it, keeping memory bounded whatever its size.

    Every byte is read: only strings longer than KEEP_STRING are dropped (replaced by UNREAD),
    so the keys and paths around them, before or after, survive. Raises TooLarge.
    """
    head = stream.read(SMALL + 1)
    if len(head) <= SMALL:
        return Payload(loads(head.decode("utf-8", "replace")), size=len(head))
    reducer = _Reducer()
    reducer.feed(head)
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        reducer.feed(chunk)
    return Payload(loads(reducer.result().decode("utf-8", "replace")), reducer.dropped, reducer.size)


class _Reducer:
    """A JSON text, fed in chunks, with each over-long string replaced (never parsed beyond quotes)."""

    def __init__(self):
        import re  # only big payloads come here; small ones never pay for `re`

        self._body = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.S)  # a string's inside, up to its quote
        self.out, self.out_len, self.size, self.dropped = [], 0, 0, False
        self.in_str, self.escape_pending, self.parts, self.str_len = False, False, None, 0

    def feed(self, data):
        self.size += len(data)
        i, n = 0, len(data)
        if self.escape_pending and n:
            self._part(data[:1])
            self.escape_pending, i = False, 1
        while i < n:
            if not self.in_str:
                j = data.find(b'"', i)
                if j < 0:
                    self._emit(data[i:])
                    return
                self._emit(data[i:j])
                self.in_str, self.parts, self.str_len, i = True, [], 0, j + 1
                continue
            end = self._body.match(data, i).end()  # type: ignore[union-attr]  # the pattern matches even the empty string
            self._part(data[i:end])
            if end == n:
                return
            if data[end] == 0x5C:  # a backslash that ends the chunk: its escaped byte comes next
                self._part(data[end:])
                self.escape_pending = True
                return
            self._close()
            i = end + 1

    def _part(self, piece):
        self.str_len += len(piece)
        if self.parts is not None:
            if self.str_len > KEEP_STRING:
                self.parts = None
            else:
                self.parts.append(piece)

    def _close(self):
        self.in_str = False
        if self.parts is None:
            self.dropped = True
            self._emit(_UNREAD_JSON)
        else:
            self._emit(b'"' + b"".join(self.parts) + b'"')
        self.parts = None

    def _emit(self, piece):
        self.out_len += len(piece)
        if self.out_len > KEEP_TOTAL:
            raise TooLarge(f"the payload is {self.size >> 20} MiB and more than {KEEP_TOTAL >> 20} MiB of it is "
                           "not long strings")
        self.out.append(piece)

    def result(self):
        if self.in_str:  # cut off inside a string: keep what came, the decode then fails
            self._emit(b'"' + b"".join(self.parts or ()))
        return b"".join(self.out)
