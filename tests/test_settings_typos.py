"""A typo in a setting never turns the gate off (issue 12, "A typo in a setting").

Every duration, count, choice and flag that does not parse takes its default, with
one note on stderr, in the CLI and in hooks (which then still enforce). `doctor`
checks the environment the hooks get: its own, and the `env` blocks of the
Claude Code settings files.
"""

import json

import pytest
from hypothesis import given, settings, strategies as st
from test_hooks_contract import ALICE, BOB, Session, payload

from agent_sync.core import config

BAD = {
    "AGENT_SYNC_STALE_AFTER": "30min",
    "AGENT_SYNC_OFFLINE_AFTER": "4 hours",
    "AGENT_SYNC_BUSY_TIMEOUT": "-1",
    "AGENT_SYNC_HOOK_BUSY_TIMEOUT": "1,5s",
    "AGENT_SYNC_RETENTION": "١٤d",
    "AGENT_SYNC_WAKE_FOR": "nan",
    "AGENT_SYNC_AUTO_LEASE": "soon",
    "AGENT_SYNC_KEEP_ACTIVITY": "20k",
    "AGENT_SYNC_KEEP_MESSAGES": "١٢",
    "AGENT_SYNC_PUSH": "tools",
    "AGENT_SYNC_WAKE": "loud",
    "AGENT_SYNC_AUTO_CLAIM": "ture",
}


@pytest.fixture
def team(repo):
    (repo.path / "src").mkdir()
    (repo.path / "src" / "app.py").write_text("x = 1\n")
    return repo, Session(repo, ALICE, "alice", "backend"), Session(repo, BOB, "bob", "frontend")


def edit_payload(repo, session):
    return payload("pre_tool_use_edit", repo, session_id=session.session_id,
                   tool_input={"file_path": str(repo.path / "src" / "app.py"), "old_string": "x", "new_string": "y"})


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_setting_still_enforces_a_lock_with_one_note(team, name):
    repo, alice, bob = team
    bob.ok("lock", "src/app.py", "--reason", "mine")
    result = repo.hook("pre-tool-use", edit_payload(repo, alice), env={name: BAD[name]})
    assert result.code == 2 and "locked by bob" in result.err, result
    notes = [line for line in result.err.splitlines() if name in line]
    assert len(notes) <= 1, result.err
    if name in ("AGENT_SYNC_STALE_AFTER", "AGENT_SYNC_OFFLINE_AFTER", "AGENT_SYNC_HOOK_BUSY_TIMEOUT",
                "AGENT_SYNC_AUTO_LEASE"):
        assert notes and "using the default" in notes[0], result.err  # the pre-tool hook reads this one


def test_all_bad_at_once_cli_works_and_notes_each_once(team):
    repo, alice, bob = team
    result = repo.run("gc", agent="x", env=BAD)  # gc reads the retention and the counts too
    assert result.code == 0, result
    for name in ("AGENT_SYNC_STALE_AFTER", "AGENT_SYNC_RETENTION", "AGENT_SYNC_KEEP_MESSAGES"):
        assert sum(name in line for line in result.err.splitlines()) == 1, result.err


def test_a_stale_after_typo_keeps_the_default_thirty_minutes(team):
    repo, alice, bob = team
    bob.ok("lock", "src/app.py")
    # with the default 30m bob is active; a parse that gave 0 or a tiny value would call him stale
    (lock,) = repo.json("locks", agent="x", env={"AGENT_SYNC_STALE_AFTER": "30min"})["locks"]
    assert lock["owner"] == bob.id
    assert bob.json("agents", env={"AGENT_SYNC_STALE_AFTER": "30min"})["agents"]


def test_doctor_flags_a_bad_value_in_a_settings_env_block(repo):
    repo.ok("init", agent="x")
    (repo.path / ".claude" / "settings.json").write_text(json.dumps({"env": {"AGENT_SYNC_STALE_AFTER": "30min"}}))
    (repo.path / ".claude" / "settings.local.json").write_text(json.dumps({"env": {"AGENT_SYNC_PUSH": "tools"}}))
    result = repo.run("doctor", env={"AGENT_SYNC_KEEP_MESSAGES": "0"})
    assert result.code == 2, result
    fails = [line for line in result.out.splitlines() if line.startswith("FAIL") and "settings:" in line]
    assert len(fails) == 3, result.out
    assert any("AGENT_SYNC_STALE_AFTER='30min'" in f and ".claude/settings.json (env)" in f for f in fails)
    assert any("AGENT_SYNC_PUSH='tools'" in f and "settings.local.json (env)" in f for f in fails)
    assert any("AGENT_SYNC_KEEP_MESSAGES='0'" in f and "the environment" in f for f in fails)


def test_doctor_reads_the_user_settings_too(repo):
    repo.ok("init", agent="x")
    (repo.home / ".claude").mkdir()
    (repo.home / ".claude" / "settings.json").write_text(json.dumps({"env": {"AGENT_SYNC_AUTO_LEASE": "10 min"}}))
    result = repo.run("doctor")
    assert result.code == 2 and "AGENT_SYNC_AUTO_LEASE='10 min'" in result.out, result


def test_doctor_with_good_settings_is_clean(repo):
    repo.ok("init", agent="x")
    (repo.path / ".claude" / "settings.json").write_text(
        json.dumps({"env": {"AGENT_SYNC_STALE_AFTER": "45m", "AGENT_SYNC_PUSH": "Prompt", "AGENT_SYNC_AUTO_LEASE": "off",
                            "AGENT_SYNC_KEEP_MESSAGES": 100, "AGENT_SYNC_AUTO_CLAIM": "yes"}}))
    result = repo.run("doctor")
    assert result.code == 0 and "settings: every agent-sync setting" in result.out, result


NAMES = sorted(set(config.DURATIONS) | set(config.COUNTS) | set(config.CHOICES) | set(config.FLAGS)
               | {config.AUTO_LEASE[0]})


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(NAMES), st.text(max_size=12))
def test_any_value_parses_or_is_reported_and_never_raises(name, value):
    """The readers and doctor's check agree: a value is reported exactly when the reader falls back."""
    env = {name: value}
    reported = bool(config.problems(env))
    config._noted.clear()
    import contextlib
    import io
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        if name in config.DURATIONS:
            got = config.duration(name, env)
            assert got > 0
        elif name == config.AUTO_LEASE[0]:
            got = config.auto_lease(env)
            assert got is None or got > 0
        elif name in config.COUNTS:
            assert 1 <= config.count(name, env) <= config.MAX_COUNT
        elif name in config.CHOICES:
            assert config.choice(name, env) in config.CHOICES[name][1]
        else:
            assert config.flag(name, env) in (True, False)
    assert bool(err.getvalue()) == reported, (name, value, err.getvalue())
    assert err.getvalue().count("\n") <= 1
