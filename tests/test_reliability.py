"""Races, crashes and a busy database, at the short sizes; `make stress` runs the long ones.

Each scenario lives in tests/stress_scenarios.py (bench/stress.py runs them at full size), runs the built archive in real
processes inside its own throwaway repository, and returns a report of its
figures and of every invariant it saw broken. Here the report is printed
(see it with `pytest -rP`) and must list no problem.
"""

import os
import sys

import pytest
from conftest import PYZ, ROOT

sys.path.insert(0, str(ROOT))
import stress_scenarios as stress

SIZES = stress.LONG if os.environ.get("AGENT_SYNC_STRESS") == "long" else stress.SHORT


def check(name, tmp_path):
    report = stress.run_scenario(name, tmp_path, PYZ, **SIZES[name])
    print(report)
    assert report.ok, str(report)


def test_stress_lock_race_one_grant_per_round(tmp_path):
    """32 processes lock one path at once, round after round: one grant, no busy errors, no tracebacks."""
    check("lock-race", tmp_path)


def test_stress_claim_race_distinct_owners(tmp_path):
    """16 processes run claim-next on 10 fresh tasks: 10 distinct claims, no task with two owners."""
    check("claim-race", tmp_path)


def test_stress_message_storm_exactly_once_per_recipient(tmp_path):
    """8 senders; 4 readers alternate the prompt hook and inbox: each message reaches each recipient once."""
    check("message-storm", tmp_path)


def test_stress_crash_keeps_every_acknowledged_write(tmp_path):
    """Writers SIGKILLed at random moments: integrity_check ok, every exit-0 write present, index a superset."""
    check("crash", tmp_path)


@pytest.mark.timeout(600)
def test_stress_busy_database_fails_open_fast_and_waits_bounded(tmp_path):
    """A process holds the write lock: hooks answer in about 2 s, CLI writes exit 5 after their bound."""
    check("busy", tmp_path)
