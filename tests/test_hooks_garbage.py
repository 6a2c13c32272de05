"""Hooks never break a session: any input, any state of storage, a busy database.

Every event must exit 0 (2 only for a genuine lock conflict), print either
nothing or one JSON object on stdout, at most one note on stderr, and never
a traceback.
"""

import json
import os
import random
import subprocess
import sys
import time

import conftest
import pytest
from conftest import Repo, Result, clean_env
from test_hooks_contract import ALICE, BOB, CAROL, Session, payload

EVENTS = {  # event: the fixture it is normally sent
    "session-start": "session_start",
    "user-prompt-submit": "user_prompt_submit",
    "pre-tool-use": "pre_tool_use_edit",
    "post-tool-use": "post_tool_use_edit",
    "stop": "stop",
    "subagent-stop": "subagent_stop",
    "session-end": "session_end",
}
BIG = "a" * 100_000

RAW_INPUTS = {
    "empty": b"",
    "whitespace": b"  \n\t\n",
    "not json": b"this is not json",
    "json array": b'[{"tool_name": "Edit"}]',
    "json string": b'"session_id"',
    "json null": b"null",
    "json number": b"42",
    "empty object": b"{}",
    "truncated": b'{"session_id": "3f6b2c1e", "tool_name": "Edit", "tool_input": {"file_path": "/ho',
    "two documents": b'{"tool_name": "Edit"}{"tool_name": "Write"}',
    "trailing garbage": b'{"tool_name": "Edit"} trailing',
    "invalid utf-8": b'{"tool_name": "Edit", "session_id": "\xff\xfe\xfd"}',
    "NUL bytes": b"\x00\x00{\x00}",
    "bom": '\ufeff{"tool_name": "Edit"}'.encode(),
    "deep nesting": b"[" * 200_000,
    "deep object": b'{"a":' * 50_000,
}


def _edit(fields=None, tool_input=None):
    def make(base):
        data = json.loads(json.dumps(base))
        data.update(fields or {})
        if tool_input is not None:
            if isinstance(data.get("tool_input"), dict) and isinstance(tool_input, dict):
                data["tool_input"].update(tool_input)
            else:
                data["tool_input"] = tool_input
        return data
    return make


VARIANTS = {
    "tool_input string": _edit(tool_input="file_path=/etc/passwd"),
    "tool_input list": _edit(tool_input=[{"file_path": "src/locked.py"}]),
    "tool_input null": _edit({"tool_input": None}),
    "file_path number": _edit(tool_input={"file_path": 12345, "notebook_path": 6789, "command": 42}),
    "file_path list": _edit(tool_input={"file_path": ["src/app.py"], "command": ["echo", "x"]}),
    "file_path null": _edit(tool_input={"file_path": None, "command": None}),
    "file_path empty": _edit(tool_input={"file_path": "", "command": ""}),
    "file_path dict": _edit(tool_input={"file_path": {"path": "src/app.py"}}),
    "session_id list": _edit({"session_id": ["3f6b2c1e"]}),
    "session_id number": _edit({"session_id": 31337}),
    "session_id dict": _edit({"session_id": {"id": "x"}}),
    "session_id huge": _edit({"session_id": BIG}),
    "session_id surrogate": _edit({"session_id": "\ud800abc"}),
    "cwd number": _edit({"cwd": 7}),
    "cwd missing dir": _edit({"cwd": "/nonexistent/dir/for/agent-sync"}),
    "cwd relative": _edit({"cwd": "src"}),
    "cwd surrogate": _edit({"cwd": "/tmp/\udcff\ud800"}),
    "cwd 100 KB": _edit({"cwd": "/" + "/".join(["d" * 200] * 500)}),
    "tool_name number": _edit({"tool_name": 5}),
    "tool_name null": _edit({"tool_name": None}),
    "stop_hook_active string": _edit({"stop_hook_active": "true"}),
    "reason and source wrong": _edit({"reason": ["logout"], "source": {"startup": 1}}),
    "event name mismatch": _edit({"hook_event_name": "Notification"}),
    "path 100 KB": _edit(tool_input={"file_path": "src/" + BIG, "notebook_path": BIG}),
    "deep path 100 KB": _edit(tool_input={"file_path": "src/" + "a/" * 50_000 + "x.py"}),
    "path with NUL": _edit(tool_input={"file_path": "src/app\x00.py"}),
    "path surrogate": _edit(tool_input={"file_path": "src/\ud800\udcff.py"}),
    "path outside repo": _edit(tool_input={"file_path": "/etc/passwd"}),
    "path climbing out": _edit(tool_input={"file_path": "../../../../etc/hosts"}),
    "bash 100 KB": _edit({"tool_name": "Bash"}, {"command": "echo x > src/" + BIG}),
    "bash deep nesting": _edit({"tool_name": "Bash"}, {"command": "echo $(" * 5_000}),
    "bash many subshells": _edit({"tool_name": "Bash"}, {"command": "(" * 100_000}),
    "bash many cds": _edit({"tool_name": "Bash"}, {"command": "cd a;" * 20_000 + "echo x > y"}),
    "bash NUL": _edit({"tool_name": "Bash"}, {"command": "echo x > src/\x00app.py"}),
    "notebook wrong key": _edit({"tool_name": "NotebookEdit"}, {"notebook_path": ["x"], "file_path": 3}),
    "everything wrong": lambda base: {k: [v] for k, v in base.items()},
}
# Variants about tool calls only; events without a tool still get the rest (100 KB path included).
TOOL_ONLY = {"bash 100 KB", "bash deep nesting", "bash many subshells", "bash many cds", "bash NUL",
             "notebook wrong key", "deep path 100 KB", "path surrogate", "path climbing out"}


def check(result, what, failures, allow_block=False):
    """Collect (rather than raise) so one run reports every bad case."""
    problems = []
    if "Traceback" in result.err:
        problems.append("traceback")
    if result.code not in ((0, 2) if allow_block else (0,)):
        problems.append(f"exit {result.code}")
    if result.out:
        try:
            if not isinstance(json.loads(result.out), dict):
                problems.append("stdout is not a JSON object")
        except ValueError:
            problems.append("stdout is not JSON")
    if len(result.err.strip().splitlines()) > 1 and result.code != 2:
        problems.append("more than one note on stderr")
    if problems:
        failures.append(f"{what}: {', '.join(problems)}: out={result.out[:200]!r} err={result.err[:300]!r}")


def run_hook(repo, event, data, env=None):
    """The hook, without conftest's traceback assertion (check() collects it instead)."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    merged = {**repo.env, **(env or {})}
    proc = subprocess.run([sys.executable, str(conftest.PYZ), "hook", event], input=raw, capture_output=True,
                          cwd=str(repo.path), env=clean_env(repo.home, **merged), timeout=60)
    return Result(proc)


def _new_repo(base):
    path, home = base / "repo", base / "home"
    path.mkdir()
    home.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=clean_env(home))
    for rel in ("src/app.py", "src/locked.py", "notebooks/analysis.ipynb"):
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text("x\n")
    return Repo(path, home)


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    """bob holds src/locked.py; the payloads write src/app.py, which nobody holds."""
    repo = _new_repo(tmp_path_factory.mktemp("garbage"))
    bob = Session(repo, BOB, "bob")
    bob.ok("lock", "src/locked.py", "--reason", "garbage tests")
    bob.ok("send", "--to", "all", "--message", "hello everyone")
    # Garbage, not leases, is under test: the post-tool cases' edits of src/app.py (made under
    # many identities the junk produces) must not lease it away from the pre-tool cases.
    repo.env["AGENT_SYNC_AUTO_LEASE"] = "off"
    return repo


# ---------------------------------------------------------------------------
# Garbage input


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_raw_garbage_on_stdin(healthy, event):
    failures = []
    for name, raw in RAW_INPUTS.items():
        check(run_hook(healthy, event, raw), f"{event} <- {name}", failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_wrongly_typed_fields(healthy, event):
    failures = []
    tool_event = event in ("pre-tool-use", "post-tool-use")
    cases = [(EVENTS[event], name) for name in VARIANTS if tool_event or name not in TOOL_ONLY]
    if tool_event:  # the same junk around a Bash call
        cases += [("pre_tool_use_bash", name) for name in VARIANTS if name.startswith(("tool_input", "file_path", "cwd"))]
    for fixture, name in cases:
        data = VARIANTS[name](payload(fixture, healthy))
        check(run_hook(healthy, event, data), f"{event} <- {fixture} / {name}", failures)
    assert not failures, "\n".join(failures)


def test_garbage_never_hides_a_real_conflict(healthy):
    """Junk beside a genuine target still blocks: the garbage is ignored, not the payload."""
    data = payload("pre_tool_use_edit", healthy, session_id=ALICE,
                   tool_input={"file_path": str(healthy.path / "src/locked.py")},
                   stop_hook_active=[1], reason=5, source=None, extra={"deep": [[[[]]]]})
    result = run_hook(healthy, "pre-tool-use", data)
    assert result.code == 2 and "src/locked.py" in result.err, result


def test_unknown_event_and_no_event(healthy):
    failures = []
    for argv in (["hook", "pre-compact"], ["hook", "--agent", "nobody", "pre-tool-use"], ["hook", "Stop"]):
        proc = subprocess.run([sys.executable, str(conftest.PYZ), *argv], input=b"{}", capture_output=True,
                              cwd=str(healthy.path), env=clean_env(healthy.home), timeout=60)
        check(Result(proc), " ".join(argv), failures)
    assert not failures, "\n".join(failures)
    for argv in (["hook"], ["hook", "--help"]):  # a person asking: usage on stdout, exit 0
        result = Result(subprocess.run([sys.executable, str(conftest.PYZ), *argv], input=b"", capture_output=True,
                                       cwd=str(healthy.path), env=clean_env(healthy.home), timeout=60))
        assert result.code == 0 and result.out.startswith("usage:") and "Traceback" not in result.err, result


# ---------------------------------------------------------------------------
# Broken storage


def _corrupt_db(repo):
    repo.db.parent.mkdir(parents=True, exist_ok=True)
    repo.db.write_bytes(random.Random(20260101).randbytes(16384))


def _db_is_directory(repo):
    repo.db.mkdir(parents=True)


def _state_dir_is_a_file(repo):
    repo.db.parent.parent.mkdir(parents=True, exist_ok=True)
    repo.db.parent.write_text("not a directory\n")


def _garbage_side_files(repo):
    Session(repo, BOB, "bob").ok("lock", "src/locked.py")
    state = repo.db.parent
    (state / "locks.idx").write_bytes(random.Random(1).randbytes(3000))
    (state / "mail.seq").write_bytes(b"\xff\xfe not a number")
    (state / "seen").mkdir(exist_ok=True)
    for name in os.listdir(state / "seen"):
        (state / "seen" / name).write_bytes(b"\x00\x01")
    (state / "local-id").write_bytes(b"\xff\xff bad id\n")


def _missing_db(repo):
    pass


def _readonly_dir(repo):
    """chmod 0o555 on the state directory; root ignores it, so then make the database a directory too."""
    Session(repo, BOB, "bob").ok("lock", "src/locked.py")
    state = repo.db.parent
    for child in state.iterdir():
        if child.is_file():
            child.chmod(0o444)
    state.chmod(0o555)
    probe = state / "probe"
    try:
        probe.write_text("x")
    except OSError:
        return "read-only"
    probe.unlink()
    # Running as root: permissions are not enforced. Take away what root can't bypass.
    state.chmod(0o755)
    for child in list(state.iterdir()):
        if child.name.startswith("state.sqlite"):
            child.unlink()
    repo.db.mkdir()
    return "root bypasses chmod: state.sqlite replaced by a directory"


BROKEN = {
    "missing db": _missing_db,
    "corrupt db": _corrupt_db,
    "db is a directory": _db_is_directory,
    "state dir is a file": _state_dir_is_a_file,
    "read-only state dir": _readonly_dir,
    "garbage side files": _garbage_side_files,
}


@pytest.mark.parametrize("state", sorted(BROKEN))
def test_broken_storage_fails_open(tmp_path, state):
    repo = _new_repo(tmp_path)
    how = BROKEN[state](repo) or state
    failures = []
    try:
        for event, fixture in EVENTS.items():
            inputs = {"valid": payload(fixture, repo, session_id=CAROL), "empty": b"", "not json": b"{{{"}
            if event == "pre-tool-use":
                inputs["bash"] = payload("pre_tool_use_bash", repo, session_id=CAROL,
                                         tool_input={"command": "echo x > src/app.py"})
            for name, data in inputs.items():
                # "garbage side files" keeps a real lock of bob's: src/app.py is not covered by it
                check(run_hook(repo, event, data), f"[{how}] {event} <- {name}", failures)
    finally:
        if repo.db.parent.is_dir():
            repo.db.parent.chmod(0o755)
    assert not failures, "\n".join(failures)


def test_corrupt_db_note_names_a_real_command(tmp_path):
    """The note for a damaged database tells the user what to run; that command must exist."""
    repo = _new_repo(tmp_path)
    _corrupt_db(repo)
    result = run_hook(repo, "session-start", payload("session_start", repo))
    assert result.code == 0 and "damaged" in result.err, result
    suggested = result.err.split("run `", 1)[1].split("`", 1)[0] if "run `" in result.err else None
    assert suggested and "doctor --repair" in suggested, result.err
    # It runs as shown (core.program: no launcher and no shim here, so the archive itself).
    proc = subprocess.run(["sh", "-c", suggested + " --help"], capture_output=True,
                          cwd=str(repo.path), env=clean_env(repo.home), timeout=60)
    assert proc.returncode == 0, f"the note suggests `{suggested}`, which does not run: {proc.stderr[:300]!r}"


def test_blocked_edit_survives_broken_side_files(tmp_path):
    repo = _new_repo(tmp_path)
    _garbage_side_files(repo)
    data = payload("pre_tool_use_edit", repo, session_id=CAROL, tool_input={"file_path": str(repo.path / "src/locked.py")})
    result = run_hook(repo, "pre-tool-use", data)
    assert result.code == 2 and "src/locked.py" in result.err, result


# ---------------------------------------------------------------------------
# A busy database

HOLDER = r"""
import select, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
select.select([sys.stdin], [], [], float(sys.argv[2]))  # hold until told, at most this long
conn.execute("ROLLBACK")
"""
HOLD_SECONDS = 6.0
LIMIT = 4.0  # the hook waits AGENT_SYNC_HOOK_BUSY_TIMEOUT (1.5s) and then fails open

BUSY_CASES = {  # case: (event, fixture, tool_input, expected exit, expect a note)
    "session-start": ("session-start", "session_start", None, 0, True),
    "user-prompt-submit": ("user-prompt-submit", "user_prompt_submit", None, 0, True),
    "pre-tool-use unlocked": ("pre-tool-use", "pre_tool_use_edit", None, 0, False),
    "pre-tool-use locked": ("pre-tool-use", "pre_tool_use_edit", {"file_path": "LOCKED"}, 2, False),
    "pre-tool-use bash locked": ("pre-tool-use", "pre_tool_use_bash", {"command": "echo x > src/locked.py"}, 2, False),
    "post-tool-use": ("post-tool-use", "post_tool_use_edit", None, 0, True),
    "stop": ("stop", "stop", None, 0, True),
    "subagent-stop": ("subagent-stop", "subagent_stop", None, 0, False),  # answers without the database
    "session-end": ("session-end", "session_end", None, 0, True),
}


@pytest.mark.parametrize("case", list(BUSY_CASES))
def test_busy_database(tmp_path, case):
    event, fixture, tool_input, code, note = BUSY_CASES[case]
    repo = _new_repo(tmp_path)
    bob = Session(repo, BOB, "bob")
    bob.ok("lock", "src/locked.py", "--reason", "busy test")
    bob.ok("send", "--to", "all", "--message", "pending for everyone")
    if tool_input and tool_input.get("file_path") == "LOCKED":
        tool_input = {"file_path": str(repo.path / "src/locked.py")}
    # CAROL has never been seen: every event but pre-tool-use has to write
    data = payload(fixture, repo, session_id=CAROL, tool_input=tool_input)

    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(repo.db), str(HOLD_SECONDS)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        result = run_hook(repo, event, data)
        elapsed = time.monotonic() - start
        assert holder.poll() is None, "the helper let go of the write lock too early"
    finally:
        holder.stdin.close()
        holder.wait(timeout=HOLD_SECONDS + 5)

    assert elapsed < LIMIT, f"{case} took {elapsed:.2f}s with the database busy"
    assert "Traceback" not in result.err, result
    assert result.code == code, result
    if code == 2:
        assert "src/locked.py" in result.err and "bob" in result.err, result
    elif note:
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and "busy" in lines[0], result
        assert result.out == "", result
    else:
        assert (result.out, result.err) == ("", ""), result
