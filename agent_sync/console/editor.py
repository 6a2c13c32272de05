"""The prompt's line editor: cursor movement, kill commands, history and Tab completion.

Pure text manipulation, so it is tested without a terminal; `screen` maps keys
to these methods.
"""

HISTORY_LIMIT = 500


class LineEditor:
    """One editable line, with a cursor and a history of submitted lines."""

    def __init__(self, history_limit=HISTORY_LIMIT):
        self.text = ""
        self.cursor = 0
        self.history = []
        self.history_limit = history_limit
        self._browse = None  # index into history while browsing it with up/down
        self._draft = ""

    def _set(self, text, cursor=None):
        self.text = text
        self.cursor = len(text) if cursor is None else max(0, min(cursor, len(text)))

    def insert(self, chars):
        chars = "".join(ch for ch in chars if ch.isprintable())
        self._set(self.text[: self.cursor] + chars + self.text[self.cursor:], self.cursor + len(chars))

    def backspace(self):
        if self.cursor:
            self._set(self.text[: self.cursor - 1] + self.text[self.cursor:], self.cursor - 1)

    def delete(self):
        self._set(self.text[: self.cursor] + self.text[self.cursor + 1:], self.cursor)

    def left(self):
        self.cursor = max(0, self.cursor - 1)

    def right(self):
        self.cursor = min(len(self.text), self.cursor + 1)

    def home(self):
        self.cursor = 0

    def end(self):
        self.cursor = len(self.text)

    def kill_to_start(self):
        self._set(self.text[self.cursor:], 0)

    def kill_to_end(self):
        self._set(self.text[: self.cursor], self.cursor)

    def delete_word(self):
        """Delete the word before the cursor (Ctrl-W)."""
        head = self.text[: self.cursor].rstrip()
        cut = len(head) - len(head.split()[-1]) if head.split() else 0
        self._set(self.text[:cut] + self.text[self.cursor:], cut)

    def submit(self):
        """Return the line and start a fresh one; non-blank lines join the history."""
        line = self.text
        if line.strip() and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[: -self.history_limit]
        self._browse = None
        self._set("")
        return line

    def history_up(self):
        if not self.history:
            return
        if self._browse is None:
            self._draft, self._browse = self.text, len(self.history)
        self._browse = max(0, self._browse - 1)
        self._set(self.history[self._browse])

    def history_down(self):
        if self._browse is None:
            return
        self._browse += 1
        if self._browse >= len(self.history):
            self._browse = None
            self._set(self._draft)
        else:
            self._set(self.history[self._browse])

    def complete(self, candidates_for):
        """Complete the word before the cursor; return the candidates when they are several.

        `candidates_for(text_before_cursor)` lists the words that could go there.
        """
        before = self.text[: self.cursor]
        matches = candidates_for(before)
        if not matches:
            return []
        start = len(before) - len(before.split()[-1]) if before and not before[-1].isspace() else len(before)
        if len(matches) == 1:
            word = matches[0] + " "
        else:
            word = _common_prefix(matches)
            if len(word) < self.cursor - start:
                return matches
        self._set(self.text[:start] + word + self.text[self.cursor:], start + len(word))
        return [] if len(matches) == 1 else matches


def _common_prefix(words):
    first, last = min(words), max(words)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]
