"""The cache watcher: one process per checkout keeps the hooks' local files in step with etcd.

`agent-sync remote watcher` runs it; the CLI and the session-start hook start
it detached when the freshness stamp is old (start()). It

- reads the locks, the message counter and the namespace's fold flag at one
  revision and writes the cache (cache.publish);
- watches one key range from the next revision on (the locks through the
  counters; the keys between are filtered out) and merges each batch;
- confirms about once a second, with one small linearizable read, that no
  lock changed past the revision it applied, and stamps the cache fresh;
- after a dropped stream the watch resumes from its next revision (no event
  lost or repeated); when that revision is compacted it reads everything
  again and watches from there;
- exits when no hook checked in and no CLI ran for AGENT_SYNC_WATCHER_IDLE,
  or when another watcher took its pid file over.

Single instance: the pid file is created with O_EXCL and touched on every
loop; one untouched for PID_STALE seconds belongs to a dead watcher.
"""

import os
import sys
import time

from .. import cachestamp, config, repo
from . import cache
from .client import Compacted, EtcdError, op_range, prefix_end
from .keys import Keys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

    from ..backend import Backend
    from .watch import Watch
    from .wire import WatchBatch

CONFIRM_EVERY = 0.5  # seconds between freshness confirmations (one count-only read each)
PID_STALE = 10.0  # a pid file untouched this long belongs to a watcher that died
IDLE_CHECK_EVERY = 5.0
RETRY_PAUSE = 0.5  # after an unreachable engine, before trying again
GIVE_UP_AFTER = 60.0  # seconds without any answer: exit (the next stale hook or command starts another)


class Watcher:
    def __init__(self, root: str, backend: "Backend", out: "TextIO | None" = None) -> None:
        self.root = root
        self.client = backend.client(timeout=2.0)
        self.keys = Keys(backend.namespace(root))
        self.out = out  # a stream for progress lines (foreground runs), or None
        self.view: cache.View = cache.View(0, {}, 0, False)
        self.synced = False
        self.pid_path = cachestamp.path_of(root, cachestamp.WATCHER_PID)
        self.idle_after = config.duration("AGENT_SYNC_WATCHER_IDLE")
        self.started = time.time()

    def say(self, text: str) -> None:
        if self.out is not None:
            print(f"agent-sync watcher: {text}", file=self.out, flush=True)

    # -- single instance -----------------------------------------------------
    def claim(self) -> bool:
        """Take the pid file; False when a live watcher has it."""
        os.makedirs(repo.state_dir(self.root), exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.pid_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if running(self.root):
                    return False
                try:
                    os.remove(self.pid_path)  # a dead watcher's
                except OSError:
                    pass
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{os.getpid()}\n")
            return True
        return False

    def still_mine(self) -> bool:
        try:
            with open(self.pid_path, encoding="utf-8") as handle:
                return handle.read().strip() == str(os.getpid())
        except OSError:
            return False

    def release(self) -> None:
        if self.still_mine():
            try:
                os.remove(self.pid_path)
            except OSError:
                pass

    # -- the loop ------------------------------------------------------------
    def resync(self) -> None:
        sent = time.time()
        self.view = cache.read_view(self.client, self.keys)
        self.synced = True
        cache.publish(self.root, self.view, confirmed_at=sent)
        self.say(f"cache written at revision {self.view.revision} ({len(self.view.locks)} locks)")

    def open_watch(self) -> "Watch":
        start = self.keys.locks
        return self.client.watch(start, range_end=prefix_end(self.keys.seqs), start_revision=self.view.revision + 1)

    def apply(self, batch: "WatchBatch", watch: "Watch") -> None:
        changed = False
        seq_key = self.keys.seq("msgs")
        for event in batch.events:
            key = event.kv.key
            text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
            if text.startswith(self.keys.locks):
                if event.type == "DELETE":
                    changed = self.view.locks.pop(key, None) is not None or changed
                else:
                    self.view.locks[key] = cache.entry(self.keys, event.kv)
                    changed = True
            elif text == seq_key and event.type != "DELETE":
                self.view.seq = max(self.view.seq, cache.number(event.kv.value))
                changed = True
            elif text == self.keys.meta and event.type != "DELETE":
                self.view.fold = bool(cache.loads(event.kv.value).get("fold"))
                changed = True
        self.view.revision = max(self.view.revision, watch.next_revision - 1)
        if changed:
            cache.publish(self.root, self.view)

    def confirm(self) -> bool:
        """Stamp the cache fresh if no lock was written after the revision applied (one read)."""
        sent = time.time()
        result = self.client.txn([], [op_range(self.keys.locks, prefix=True, count_only=True,
                                               min_mod_revision=self.view.revision + 1)])
        if result.responses[0].count == 0:  # type: ignore[union-attr]
            with cache.Mutex(self.root):
                stamp = cachestamp.read(self.root)
                cachestamp.write(self.root, max(result.revision, stamp[0] if stamp else 0), sent)
            return True
        return False

    def idle(self, now: float) -> bool:
        newest = self.started
        for path in (cachestamp.path_of(self.root, cachestamp.USED),):
            try:
                newest = max(newest, os.stat(path).st_mtime)
            except OSError:
                pass
        seen = os.path.join(repo.state_dir(self.root), "seen")
        try:
            with os.scandir(seen) as entries:
                for item in entries:
                    try:
                        newest = max(newest, item.stat().st_mtime)
                    except OSError:
                        pass
        except OSError:
            pass
        return now - newest > self.idle_after

    def run(self) -> int:
        if not self.claim():
            self.say("another watcher serves this checkout")
            return 0
        try:
            return self._loop()
        finally:
            self.release()
            self.client.close()

    def _loop(self) -> int:
        watch: "Watch | None" = None
        last_confirm = last_idle_check = 0.0
        last_answer = time.monotonic()
        while True:
            now = time.monotonic()
            try:
                if not self.synced or watch is None:
                    self.resync()
                    watch = self.open_watch()
                    last_confirm = time.monotonic()
                batch = watch.get(CONFIRM_EVERY)
                if batch is not None:
                    self.apply(batch, watch)
                if time.monotonic() - last_confirm >= CONFIRM_EVERY:
                    self.confirm()
                    last_confirm = time.monotonic()
                last_answer = time.monotonic()
            except Compacted:
                self.say("the revision to resume from is compacted: reading everything again")
                if watch is not None:
                    watch.close()
                self.synced = False
                continue
            except EtcdError as exc:
                self.say(f"engine: {exc}")
                if time.monotonic() - last_answer > GIVE_UP_AFTER:
                    self.say("no answer for a minute: exiting")
                    return 0
                time.sleep(RETRY_PAUSE)  # the watch resumes from its next revision; the stamp ages meanwhile
            if now - last_idle_check >= IDLE_CHECK_EVERY:
                last_idle_check = now
                if not os.path.isdir(repo.state_dir(self.root)):
                    return 0  # the checkout is gone
                if not self.still_mine():
                    self.say("another watcher took over")
                    return 0
                if self.idle(time.time()):
                    self.say("idle: exiting")
                    return 0
            try:
                os.utime(self.pid_path)
            except OSError:
                pass


def running(root: str, now: float | None = None) -> bool:
    """Is a live watcher serving this checkout (its pid file was touched recently)?"""
    try:
        touched = os.stat(cachestamp.path_of(root, cachestamp.WATCHER_PID)).st_mtime
    except OSError:
        return False
    return (time.time() if now is None else now) - touched < PID_STALE


def touch_used(root: str) -> None:
    """The CLI ran: keep the watcher from going idle."""
    path = cachestamp.path_of(root, cachestamp.USED)
    try:
        with open(path, "a", encoding="utf-8"):
            pass
        os.utime(path)
    except OSError:
        pass


def start(root: str) -> bool:
    """Start the watcher for this checkout, detached, unless one runs. Never raises (best effort)."""
    if running(root):
        return False
    import subprocess

    command = _self_command() + ["remote", "watcher", "--quiet"]
    options: dict[str, Any] = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
               "cwd": root, "close_fds": True}
    if os.name == "nt":
        options["creationflags"] = getattr(subprocess, "DETACHED_PROCESS", 0x8) | \
            getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)
    else:
        options["start_new_session"] = True  # no terminal signal or hook timeout reaches it
    env = dict(os.environ, AGENT_SYNC_ROOT=root)
    package_home = _package_home()
    if not os.path.isfile(package_home):
        env["PYTHONPATH"] = package_home + os.pathsep + env.get("PYTHONPATH", "")
    try:
        subprocess.Popen(command, env=env, **options)
    except OSError:
        return False
    return True


def _package_home() -> str:
    """The archive (agent-sync.pyz) or the folder holding the agent_sync package."""
    here = os.path.abspath(__file__)  # <home>/agent_sync/core/etcd/watcher.py
    for _ in range(4):
        here = os.path.dirname(here)
    return here


def _self_command() -> list[str]:
    home = _package_home()
    if os.path.isfile(home):
        return [sys.executable, home]
    return [sys.executable, "-m", "agent_sync"]
