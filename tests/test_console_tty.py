"""The real console in a pseudo-terminal (tmux), and `watch` in a pipe.

Each test drives dist/agent-sync.pyz exactly as a person would: keys typed
into a tmux pane, the screen read back with capture-pane.
"""

import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from conftest import PYZ, clean_env

TMUX = shutil.which("tmux")
needs_tmux = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (.ci/run installs it)")
WAIT = 5.0


def wait_until(check, timeout=WAIT, every=0.05):
    """Poll `check` until it returns something truthy; return it (or the last falsy value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


class Console:
    """One `agent-sync console` running in its own tmux session."""

    def __init__(self, repo, tmp, name="c", size=(120, 40), extra=(), env=None, launcher=None):
        self.repo, self.name = repo, name
        self.socket = str(tmp / "tmux.sock")
        self.rc_file = tmp / f"{name}.rc"
        self.err_file = tmp / f"{name}.err"
        argv = [*(launcher or [sys.executable, str(PYZ)]), "console", "--interval", "0.2", *extra]
        command = (f"{' '.join(map(shlex.quote, argv))} 2>{shlex.quote(str(self.err_file))}; "
                   f"echo $? >{shlex.quote(str(self.rc_file))}")
        env = {**clean_env(repo.home, **repo.env), **(env or {})}
        self.tmux("new-session", "-d", "-s", name, "-x", str(size[0]), "-y", str(size[1]),
                  "-c", str(repo.path), command, ";", "set-option", "-t", name, "remain-on-exit", "on", env=env)

    def tmux(self, *args, env=None):
        proc = subprocess.run([TMUX, "-f", os.devnull, "-S", self.socket, *args], capture_output=True,
                              text=True, env=env or clean_env(self.repo.home), timeout=10, check=False)
        return proc.stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text, timeout=WAIT):
        found = wait_until(lambda: text in self.screen(), timeout)
        assert found, f"{text!r} not on screen within {timeout}s:\n{self.screen()}"

    def type(self, line, enter=True):
        self.tmux("send-keys", "-t", self.name, "-l", line)
        if enter:
            self.key("Enter")

    def key(self, *keys):
        self.tmux("send-keys", "-t", self.name, *keys)

    def resize(self, cols, rows):
        self.tmux("resize-window", "-t", self.name, "-x", str(cols), "-y", str(rows))

    def pane(self, fmt):
        return self.tmux("display-message", "-p", "-t", self.name, fmt).strip()

    def exit_code(self, timeout=WAIT):
        text = wait_until(lambda: self.rc_file.exists() and self.rc_file.read_text().strip(), timeout)
        assert text, f"console still running after {timeout}s:\n{self.screen()}"
        return int(text)

    def close(self):
        self.tmux("kill-server")


@pytest.fixture
def consoles(repo, tmp_path):
    opened = []

    def start(**kw):
        console = Console(repo, tmp_path, name=f"c{len(opened)}", **kw)
        opened.append(console)
        console.wait_for("operator>")
        return console

    yield start
    for console in opened:
        console.close()


def agent_states(repo):
    """{id: stored state}, read straight from the database so that no one checks in."""
    db = sqlite3.connect(repo.db)
    try:
        return dict(db.execute("SELECT id, state FROM agents").fetchall())
    finally:
        db.close()


def register(repo, *names):
    for name in names:
        repo.ok("register", "--name", name, "--role", f"{name} work", agent=name)


# ---------------------------------------------------------------------------


@needs_tmux
def test_a_lock_shows_up_within_two_seconds(repo, consoles):
    register(repo, "alice")
    console = consoles()
    console.wait_for("Locks 0")
    repo.ok("lock", "src/app.py", "--reason", "refactor", agent="alice")
    started = time.monotonic()
    console.wait_for("src/app.py", timeout=2.0)
    assert time.monotonic() - started < 2.0
    screen = console.screen()
    assert re.search(r"\d\d:\d\d src/app\.py \S+ alice", screen), screen  # countdown, path, owner
    assert "1 active / 1" in screen  # the operator is not counted as an agent


@needs_tmux
def test_send_reaches_the_agents_inbox(repo, consoles):
    register(repo, "alice")
    console = consoles()
    console.type("send alice hello")
    console.wait_for("sent #")
    (message,) = repo.json("inbox", agent="alice")["messages"]
    assert (message["from"], message["body"], message["kind"]) == ("operator", "hello", "message")


@needs_tmux
def test_directive_all_reaches_every_active_agent(repo, consoles):
    register(repo, "alice", "bob", "carol")
    console = consoles()
    console.type('directive all "freeze feature work"')
    console.wait_for("directive -> 3 active agent(s)")
    for name in ("alice", "bob", "carol"):
        directed = [m for m in repo.json("inbox", agent=name)["messages"] if m["kind"] == "directive"]
        assert [(m["to"], m["body"]) for m in directed] == [(name, "freeze feature work")], name


@needs_tmux
def test_operator_locks_hold_while_open_and_stop_after_quit(repo, consoles):
    register(repo, "alice")
    console = consoles()
    console.type("lock src/api/auth.py refactor incoming")
    console.wait_for("locked src/api/auth.py (until")
    edit = {"tool_name": "Edit", "tool_input": {"file_path": "src/api/auth.py"}}
    blocked = repo.hook("pre-tool-use", edit, agent="alice")
    assert blocked.code == 2 and "operator" in blocked.err, blocked
    assert agent_states(repo)["operator"] == "active"

    console.type("quit")
    assert console.exit_code() == 0
    assert console.pane("#{alternate_on}") == "0"  # curses left the alternate screen: terminal restored
    assert agent_states(repo)["operator"] == "offline"
    assert repo.hook("pre-tool-use", edit, agent="alice").code == 0
    assert console.err_file.read_text() == ""


@needs_tmux
@pytest.mark.parametrize("keys", [["C-c"], ["C-d"], ["q", "Enter"]], ids=["ctrl-c", "ctrl-d", "q"])
def test_every_way_out_restores_the_terminal(repo, consoles, keys):
    console = consoles()
    console.key(*keys)
    assert console.exit_code() == 0
    assert console.pane("#{alternate_on}") == "0"
    assert agent_states(repo)["operator"] == "offline"


CRASH_WHEN_DRAWING = """import sys
sys.path.insert(0, sys.argv[1])
sys.argv = ["agent-sync", *sys.argv[2:]]
from agent_sync.console import panes
def boom(*_args):
    raise RuntimeError("injected drawing bug")
panes.task_rows = boom
from agent_sync.__main__ import main
main()
"""


@needs_tmux
def test_a_crash_restores_the_terminal_and_reports_one_line(repo, tmp_path):
    repo.ok("create-task", "draw me", agent="alice")
    console = Console(repo, tmp_path, name="crash", launcher=[sys.executable, "-c", CRASH_WHEN_DRAWING, str(PYZ)])
    try:
        assert console.exit_code() == 1
        assert console.pane("#{alternate_on}") == "0"
        err = console.err_file.read_text()
        assert err.startswith("agent-sync: internal error: RuntimeError: injected drawing bug"), err
        assert len(err.splitlines()) == 1
        assert agent_states(repo)["operator"] == "offline"
    finally:
        console.close()


@needs_tmux
def test_sigterm_restores_the_terminal(repo, consoles):
    console = consoles()
    shell = int(console.pane("#{pane_pid}"))  # the console is the shell's child
    children = _children(shell)
    assert children, "console process not found"
    os.kill(children[0], signal.SIGTERM)
    assert console.exit_code() == 0
    assert console.pane("#{alternate_on}") == "0"


def _children(pid):
    """Process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


@needs_tmux
def test_panes_reflow_on_resize(repo, consoles):
    register(repo, "alice", "bob")
    repo.ok("lock", "a.py", agent="alice")
    repo.ok("create-task", "Ship it", agent="bob")
    console = consoles(size=(120, 40), env={"LINES": "10", "COLUMNS": "50"})  # stale exports must not win
    assert wait_until(lambda: _fits(console.screen(), 120, 40)), console.screen()
    for cols, rows in ((80, 24), (200, 60)):
        console.resize(cols, rows)
        expect = "Tasks" if cols >= 120 else "Locks"
        console.wait_for(expect)
        lines = wait_until(lambda c=cols, r=rows: _fits(console.screen(), c, r))
        assert lines, f"screen does not fit {cols}x{rows}:\n{console.screen()}"
        for label in ("Agents", "Locks", "Tasks", "Feed", "operator>"):
            assert label in "\n".join(lines), (label, cols, lines)
        if cols >= 120:  # three columns side by side
            assert any("Agents" in line and "Locks" in line and "Tasks" in line for line in lines), lines
    for n in range(12):  # a resize storm
        console.resize(60 + n * 7, 15 + n * 3)
    console.resize(100, 30)
    console.type("status")
    console.wait_for("agents (2 active / 2 total)")
    console.type("quit")
    assert console.exit_code() == 0


def _fits(screen, cols, rows):
    lines = screen.rstrip("\n").split("\n")
    if len(lines) != rows or not lines[-1].startswith("operator>"):
        return None
    return lines if all(len(line) <= cols for line in lines) else None


@needs_tmux
def test_hostile_values_render_as_plain_text(repo, consoles):
    register(repo, "alice")
    repo.ok("lock", "a.py", "--reason", "why", agent="alice")
    repo.ok("create-task", "title", agent="alice")
    now = time.time()
    # The CLI refuses control characters in names, titles and reasons; the table does not.
    with sqlite3.connect(repo.db) as db:
        db.execute("INSERT INTO agents (id, name, name_key, kind, state, created_at, last_seen)"
                   " VALUES ('evil', ?, 'evil', 'agent', 'active', ?, ?)",
                   ("ev\x1b[2Jil\x1b]2;pwned\x07\nname\x9b31m", now, now))
        db.execute("UPDATE locks SET reason = ?", ("why\x1b[1;1Hmoved",))
        db.execute("UPDATE tasks SET title = ?", ("title\x1b[31mred\x1b]2;pwned\x07",))
    db.close()
    repo.ok("send", "--to", "all", "--message", "hi\x1b[2J\x1b]0;pwned\x07\nsecond line", agent="alice")
    console = consoles(size=(200, 50))
    console.wait_for("hi / second line")
    screen = console.screen()
    for text in ("whymoved", "titlered", "evil / name"):
        assert text in screen, (text, screen)
    (row,) = [line for line in screen.splitlines() if "evil / name" in line]
    assert re.match(r"evil / name\s+active\s", row), row  # still in its own row and column
    assert screen.splitlines()[0].lstrip().startswith("agent-sync console")
    assert "pwned" not in console.pane("#{pane_title}")
    assert "^[" not in screen and "\x1b" not in screen
    coloured = console.tmux("capture-pane", "-p", "-e", "-t", console.name)
    (title_row,) = [line for line in coloured.splitlines() if "titlered" in line]
    assert "[31m" not in title_row, repr(title_row)  # the title's own colour code was dropped


@needs_tmux
def test_an_idle_console_does_not_write(repo, consoles):
    register(repo, "alice")
    console = consoles()
    console.wait_for("Locks 0")
    time.sleep(0.5)  # let start-up writes settle
    db = sqlite3.connect(repo.db)
    try:
        before = db.execute("PRAGMA data_version").fetchone()[0]
        time.sleep(1.5)  # several ticks at --interval 0.2
        assert db.execute("PRAGMA data_version").fetchone()[0] == before, "the console committed while idle"
    finally:
        db.close()


@needs_tmux
def test_name_flag_names_the_operator(repo, consoles):
    register(repo, "alice")
    console = consoles(extra=("--name", "lead"))
    console.type("send alice ping")
    console.wait_for("sent #")
    (message,) = repo.json("inbox", agent="alice")["messages"]
    assert (message["from"], message["from_name"]) == ("operator", "lead")


@needs_tmux
def test_presence_and_messages_stream_into_the_feed(repo, consoles):
    console = consoles()
    register(repo, "dave")
    console.wait_for("joined [active]")
    repo.ok("send", "--to", "operator", "--message", "need a hand", agent="dave")
    console.wait_for("\u2192operator: need a hand")
    console.type("bogus command")
    console.wait_for("unknown command 'bogus'")
    console.type("status")  # the console survived the error
    console.wait_for("agents (1 active / 1 total)")


@needs_tmux
def test_two_consoles_share_the_operator(repo, consoles):
    first, second = consoles(), consoles()
    first.type("quit")
    assert first.exit_code() == 0
    second.type("status")
    second.wait_for("locks (0)")
    assert agent_states(repo)["operator"] == "active"  # the other console is still open
    second.type("quit")
    assert second.exit_code() == 0
    assert agent_states(repo)["operator"] == "offline"


NO_CURSES = """import sys
sys.modules["_curses"] = None  # as on Windows: importing curses fails
sys.path.insert(0, sys.argv[1])
sys.argv = ["agent-sync", *sys.argv[2:]]
from agent_sync.__main__ import main
main()
"""


def test_console_without_curses_says_so_and_watch_still_works(repo):
    env = clean_env(repo.home)
    proc = subprocess.run([sys.executable, "-c", NO_CURSES, str(PYZ), "console"], cwd=str(repo.path), env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2 and proc.stdout == "", proc
    assert "curses" in proc.stderr and "watch" in proc.stderr and len(proc.stderr.splitlines()) == 1
    watcher = subprocess.Popen([sys.executable, "-c", NO_CURSES, str(PYZ), "watch", "--interval", "0.1"],
                               cwd=str(repo.path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = Reader(watcher.stdout)
    try:
        repo.ok("decision", "works without curses", agent="alice")
        out.wait_for("decided: works without curses")
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=WAIT) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()


def test_console_without_a_terminal_says_so(repo):
    result = repo.run("console")
    assert result.code == 2, result
    assert "terminal" in result.err and "watch" in result.err and result.out == ""
    assert len(result.err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------
# watch


class Reader:
    """Collect a subprocess's stdout lines on a thread, so reads never block the test."""

    def __init__(self, stream):
        self.lines = []
        self.thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self.thread.start()

    def _run(self, stream):
        for raw in iter(stream.readline, b""):
            self.lines.append(raw.decode("utf-8"))

    def wait_for(self, text):
        found = wait_until(lambda: any(text in line for line in self.lines))
        assert found, f"{text!r} not in watch output: {self.lines}"


def _watch(repo, *extra):
    proc = subprocess.Popen([sys.executable, str(PYZ), "watch", "--interval", "0.2", *extra],
                            cwd=str(repo.path), env=clean_env(repo.home), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    return proc, Reader(proc.stdout)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_watch_streams_plain_lines_and_stops_cleanly(repo, stop):
    register(repo, "alice")
    repo.ok("decision", "Use SQLite", agent="alice")
    proc, out = _watch(repo, "--backlog", "5")
    try:
        out.wait_for("decided: Use SQLite")  # the backlog
        repo.ok("lock", "a.py", "--reason", "plain reason", agent="alice")
        repo.ok("send", "--to", "all", "--message", "multi\nline\x1b]0;x\x07", agent="alice")
        register(repo, "bob")
        out.wait_for("locked a.py (plain reason)")
        out.wait_for("\u2192all: multi / line")
        out.wait_for("joined [active]")
        proc.send_signal(stop)
        assert proc.wait(timeout=WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    out.thread.join(timeout=WAIT)
    assert proc.stderr.read() == b""
    for line in out.lines:
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (act |msg |dir |who |lock|task|dec |gap ) ", line), line
        assert "\x1b" not in line and "\x07" not in line


def test_watch_does_not_register_anyone(repo):
    register(repo, "alice")
    repo.ok("decision", "before the watch", agent="alice")
    proc, out = _watch(repo, "--backlog", "0")
    try:
        deadline = time.monotonic() + WAIT
        while not out.lines and time.monotonic() < deadline:  # until the watch is surely running
            repo.ok("log", "--type", "note", "--message", "watch me", agent="alice")
            time.sleep(0.2)
        out.wait_for("note: watch me")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert set(agent_states(repo)) == {"alice"}
    assert all("note: watch me" in line for line in out.lines), out.lines  # --backlog 0: no history
