"""`agent-sync doctor`: one line per finding with a fix, exit 7 (8 when only the hooks fail) when something is wrong, and a --repair
that keeps the damaged file and salvages what it can."""

import hashlib
import json
import os
import re
import shlex
import sqlite3
import sys

import pytest
from conftest import PYZ, ROOT

sys.path.insert(0, str(ROOT))
from agent_sync.install import command_line as hookcommand
from agent_sync.core import schema

LINE = re.compile(r"^(ok  |note|FAIL)  [a-z ]+: \S.*$")


def doctor(repo, *args, code=None):
    result = repo.run("doctor", *args, agent="medic")
    assert "Traceback" not in result.err, result
    if code is not None:
        assert result.code == code, result
    return result


def findings(result):
    lines = [ln for ln in result.out.splitlines() if LINE.match(ln)]
    for line in lines:
        if not line.startswith("ok"):
            assert " - fix: " in line, f"a finding without a fix: {line!r}"
    return lines


def failing(result):
    return [ln for ln in findings(result) if ln.startswith("FAIL")]


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sql(repo, statement, params=()):
    conn = sqlite3.connect(str(repo.db), isolation_level=None)
    try:
        return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


def checkpoint(repo):
    sql(repo, "PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture
def team(repo):
    (repo.path / "src").mkdir()
    repo.ok("register", "--name", "ann", agent="ann")
    repo.ok("register", "--name", "bob", agent="bob")
    repo.ok("lock", "src/a.py", "--reason", "ann's", agent="ann")
    repo.ok("create-task", "first task", "--file", "src/b.py", agent="ann")
    repo.ok("claim-task", "1", agent="bob")
    for n in range(5):
        repo.ok("send", "--to", "bob", "--message", f"hello {n}", agent="ann")
    return repo


def test_healthy_repo(team):
    result = doctor(team, code=0)
    lines = findings(result)
    assert result.out.strip().endswith("doctor: nothing wrong")
    checks = {ln.split(":")[0].split(None, 1)[1] for ln in lines}
    for check in ("database", "permissions", "schema", "integrity", "wal", "orphaned rows", "expired locks",
                  "lock index", "mail stamps", "hooks"):
        assert check in checks, (check, lines)
    assert not failing(result)


def test_no_database_yet_is_fine_and_doctor_creates_none(repo):
    result = doctor(repo, code=0)
    assert "none yet" in result.out
    assert not repo.db.exists()


def test_expired_locks_are_a_note_with_the_gc_fix(team):
    team.ok("lock", "src/c.py", "--ttl", "1s", agent="ann")
    sql(team, "UPDATE locks SET expires_at = expires_at - 10 WHERE key = 'src/c.py'")
    result = doctor(team, code=0)
    (line,) = [ln for ln in findings(result) if "expired locks" in ln]
    assert line.startswith("note") and line.endswith(f"fix: python3 -I -S {PYZ} gc"), line  # runs as shown: no launcher here


def test_orphaned_rows_fail_and_repair_detaches_them(team):
    conn = sqlite3.connect(str(team.db), isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")  # another tool, or an old bug, left these behind
    conn.execute("INSERT INTO locks (key, path, kind, owner, token, ttl, created_at, expires_at)"
                 " VALUES ('src/z.py', 'src/z.py', 'file', 'ghost', 1, 60, 0, 9e9)")
    conn.execute("INSERT INTO receipts (message_id, agent_id, seen_at, via) VALUES (999, 'bob', 0, 'inbox')")
    conn.execute("UPDATE tasks SET owner = 'ghost' WHERE id = 1")
    conn.close()
    result = doctor(team, code=7)
    (line,) = [ln for ln in failing(result) if "orphaned rows" in ln]  # the lock index misses it too
    assert "locks 1" in line and "receipts 1" in line and "tasks 1" in line, line
    repaired = doctor(team, "--repair", code=0)
    assert "orphaned row" in repaired.out
    assert sql(team, "SELECT COUNT(*) FROM locks WHERE owner = 'ghost'") == [(0,)]
    assert sql(team, "SELECT owner FROM tasks WHERE id = 1") == [(None,)]
    assert sql(team, "SELECT COUNT(*) FROM receipts WHERE message_id = 999") == [(0,)]
    assert not failing(doctor(team, code=0))


def test_lock_index_missing_a_live_lock_fails_and_repair_rewrites_it(team):
    index = team.db.parent / "locks.idx"
    lines = index.read_text().splitlines()
    index.write_text("\n".join(ln for ln in lines if "src/a.py" not in ln) + "\n")
    (line,) = failing(doctor(team, code=7))
    assert "lock index" in line and "src/a.py" in line, line
    doctor(team, "--repair", code=0)
    assert "src/a.py" in index.read_text()
    payload = {"session_id": "x", "cwd": str(team.path), "tool_name": "Edit", "tool_input": {"file_path": "src/a.py"}}
    assert team.hook("pre-tool-use", payload, agent="bob").code == 2


def test_mail_stamp_behind_fails_and_repair_restores_delivery(team):
    prompt = {"session_id": "bob-session", "cwd": str(team.path), "prompt": "go"}
    first = team.hook("user-prompt-submit", prompt, agent="bob")
    assert "hello 4" in first.out
    team.ok("send", "--to", "bob", "--message", "late news", agent="ann")
    (team.db.parent / "mail.seq").write_text("1\n")  # behind: the prompt hook would think bob is settled
    (line,) = failing(doctor(team, code=7))
    assert "mail stamps" in line, line
    doctor(team, "--repair", code=0)
    assert "late news" in team.hook("user-prompt-submit", prompt, agent="bob").out


def test_leftover_temp_files_are_noted_and_removed(team):
    (team.db.parent / "locks.idx.4242.tmp").write_text("half")
    (team.db.parent / "mail.seq.4243.tmp").write_text("")
    result = doctor(team, code=0)
    assert any(ln.startswith("note  temp files: 2") for ln in findings(result)), result.out
    doctor(team, "--repair", code=0)
    assert not list(team.db.parent.glob("*.tmp"))


def damage_pages(db, pages):
    data = bytearray(db.read_bytes())
    size = int.from_bytes(data[16:18], "big") or 65536
    for page in pages:
        data[page * size:(page + 1) * size] = os.urandom(size)
    db.write_bytes(bytes(data))


def test_repair_keeps_the_damaged_file_and_salvages_the_rest(team):
    conn = sqlite3.connect(str(team.db), isolation_level=None)
    conn.executemany("INSERT INTO activity (agent, type, message, created_at) VALUES ('ann', 'note', ?, 0)",
                     [(f"filler {n} " + "x" * 300,) for n in range(1500)])
    conn.close()
    checkpoint(team)
    pages = sql(team, "PRAGMA page_count")[0][0]
    max_message = sql(team, "SELECT MAX(id) FROM messages")[0][0]
    damage_pages(team.db, [pages // 2, pages // 2 + 1])
    damaged_sha = sha(team.db)
    result = doctor(team, code=7)
    assert any("integrity" in ln or "cannot be read" in ln for ln in failing(result)), result.out
    assert sha(team.db) == damaged_sha  # diagnosing changes nothing

    repaired = doctor(team, "--repair", code=0)
    (aside,) = team.db.parent.glob("state.sqlite.damaged-*[0-9]")
    assert re.fullmatch(r"state\.sqlite\.damaged-\d{8}-\d{6}", aside.name)
    assert sha(aside) == damaged_sha  # kept, byte for byte
    assert re.search(r"activity: \d+ read, \d+ lost", repaired.out), repaired.out
    assert sql(team, "PRAGMA integrity_check") == [("ok",)]
    assert sql(team, "PRAGMA user_version") == [(schema.CURRENT,)]
    salvaged = sql(team, "SELECT COUNT(*) FROM activity WHERE message LIKE 'filler %'")[0][0]
    assert 1400 <= salvaged < 1500, salvaged  # all but the rows the two damaged pages held
    # The small tables sat in pages that were not hit: everything important came back.
    locks = team.json("locks", agent="bob")["locks"]
    assert [(lk["path"], lk["owner"]) for lk in locks] == [("src/a.py", "ann")]
    (task,) = team.json("tasks", agent="bob")["tasks"]
    assert task["owner"] == "bob" and task["status"] == "in_progress"
    # Ids are never reused: a new message comes after every old one, and bob still gets it.
    out = team.ok("send", "--to", "bob", "--message", "after the repair", agent="ann").out
    assert int(re.search(r"#(\d+)", out).group(1)) > max_message
    inbox = team.json("inbox", agent="bob")["messages"]
    assert [m["body"] for m in inbox][-1] == "after the repair"
    payload = {"session_id": "x", "cwd": str(team.path), "tool_name": "Edit", "tool_input": {"file_path": "src/a.py"}}
    assert team.hook("pre-tool-use", payload, agent="bob").code == 2  # the lock still holds
    assert not failing(doctor(team, code=0))


@pytest.mark.parametrize("junk", [b"", b"not a database at all\n" * 50, os.urandom(64 * 1024)],
                         ids=["empty", "text", "random"])
def test_repair_of_an_unreadable_file(team, junk):
    checkpoint(team)
    for extra in team.db.parent.glob("state.sqlite-*"):
        extra.unlink()
    team.db.write_bytes(junk)
    if not junk:
        doctor(team, code=0)  # an empty file is a new database to SQLite: nothing is wrong
        return
    assert any("not an SQLite database" in ln for ln in failing(doctor(team, code=7)))
    repaired = doctor(team, "--repair", code=0)
    assert "nothing was readable" in repaired.out
    assert "WARNING: 1 lock(s)" in repaired.out and "src/a.py (ann)" in repaired.out  # told, from the old index
    (aside,) = team.db.parent.glob("state.sqlite.damaged-*[0-9]")
    assert aside.read_bytes() == junk
    team.ok("log", "--type", "note", "--message", "a fresh start", agent="ann")
    assert not failing(doctor(team, code=0))


def test_newer_schema_is_never_rewritten(team):
    sql(team, "PRAGMA user_version = 999")
    checkpoint(team)
    before = sha(team.db)
    (line,) = failing(doctor(team, code=7))
    assert "newer" in line and "upgrade agent-sync" in line, line
    result = doctor(team, "--repair", code=7)
    assert "not repairing" in result.out
    assert sha(team.db) == before
    assert not list(team.db.parent.glob("state.sqlite.damaged-*"))


def write_settings(repo, command):
    settings = {"hooks": {"PreToolUse": [{"matcher": "Edit|Write|Bash", "hooks": [
        {"type": "command", "command": command, "timeout": 10}]}]}}
    (repo.path / ".claude" / "settings.json").write_text(json.dumps(settings, indent=2))


def test_installed_hook_that_runs(team):
    write_settings(team, hookcommand.prefix(pyz_ref=shlex.quote(str(PYZ)), python=shlex.quote(sys.executable))
                   + " pre-tool-use")
    result = doctor(team, code=0)
    assert any(ln.startswith("ok    hooks: the PreToolUse hook") for ln in findings(result)), result.out


def test_installed_hook_that_cannot_run(team, tmp_path):
    missing = shlex.quote(str(tmp_path / "gone" / "agent-sync.pyz"))
    write_settings(team, hookcommand.prefix(pyz_ref=missing, python=shlex.quote(sys.executable)) + " pre-tool-use")
    (line,) = failing(doctor(team, code=8))  # gate-broken: only the hooks fail
    assert line.startswith("FAIL  hooks: the PreToolUse hook") and f"fix: python3 -I -S {PYZ} install" in line, line


LAUNCH = hookcommand.LAUNCH


@pytest.mark.parametrize("command", [
    f'touch pwned; python3 -I -S -c "{LAUNCH}" "$CLAUDE_PROJECT_DIR/.claude/skills/agent-sync/agent-sync.pyz" pre-tool-use',
    f'python3 -I -S -c "{LAUNCH}" "$(touch pwned)/agent-sync.pyz" pre-tool-use',
    f'python3 -I -S -c "{LAUNCH}" "$CLAUDE_PROJECT_DIR/.claude/skills/agent-sync/agent-sync.pyz" pre-tool-use && touch pwned',
    f'python3 -I -S -c "{LAUNCH}" /tmp/`touch pwned`agent-sync.pyz pre-tool-use',
    f'$(touch pwned)python3 -I -S -c "{LAUNCH}" /x/agent-sync.pyz pre-tool-use',
    f'python3 -I -S -c "import os; os.system(\'touch pwned\')  # agent_sync.hooks.entry" /x/agent-sync.pyz pre-tool-use',
    "agent-sync hook pre-tool-use; touch pwned",
    "touch pwned # agent-sync hook pre-tool-use",
    f'python3 -I -S -c "{LAUNCH}" /x/agent-sync.pyz "pre-tool-use$(touch pwned)"',
])
def test_doctor_never_runs_a_settings_command_it_did_not_write(team, command):
    write_settings(team, command)
    result = doctor(team, code=8)
    (line,) = failing(result)
    assert "did NOT run it" in line and "touch pwned" in line, line
    assert not (team.path / "pwned").exists()
    assert not any(p.name == "pwned" for p in team.path.parent.rglob("pwned"))


def test_invalid_settings_file(team):
    (team.path / ".claude" / "settings.json").write_text("{ not json")
    (line,) = failing(doctor(team, code=8))
    assert "settings.json" in line and "invalid JSON" in line, line
