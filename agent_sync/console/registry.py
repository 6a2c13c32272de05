"""Which consoles are open: one small file each, whose mtime is a heartbeat.

Several consoles share the one operator identity. The last one to close turns
the operator offline; the others leave it active. Each console removes its own
file before it looks for the others', so two consoles closing at once cannot
both believe the other is still open. A console that crashed stops counting
once its file is LIVE_FOR seconds old.
"""

import os
import time

from ..core import repo

BEAT_EVERY = 10.0
LIVE_FOR = 45.0


class Registration:
    """This console's file under <state dir>/consoles/."""

    def __init__(self, root):
        self.folder = os.path.join(repo.state_dir(root), "consoles")
        self.path = None
        self.beat_at = 0.0

    def start(self):
        os.makedirs(self.folder, exist_ok=True)
        self.path = os.path.join(self.folder, f"{os.getpid()}-{os.urandom(4).hex()}")
        self._touch()

    def _touch(self):
        with open(self.path, "w", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        self.beat_at = time.monotonic()

    def beat(self):
        """Refresh the heartbeat (a file write, never the database) every BEAT_EVERY seconds."""
        if self.path and time.monotonic() - self.beat_at >= BEAT_EVERY:
            try:
                self._touch()
            except OSError:
                self.beat_at = time.monotonic()  # unwritable: the other consoles' self-repair still works

    def stop(self):
        """Remove this console's file; return how many other consoles are still open."""
        if self.path:
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass
            self.path = None
        return len(others_open(self.folder))


def others_open(folder, now=None):
    """Files of consoles that beat recently; stale ones are removed on the way."""
    now = time.time() if now is None else now
    live = []
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return live
    for name in names:
        path = os.path.join(folder, name)
        try:
            if now - os.stat(path).st_mtime <= LIVE_FOR:
                live.append(name)
            else:
                os.remove(path)
        except FileNotFoundError:
            continue
    return live
