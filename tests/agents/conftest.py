"""Fixtures of the real-agent tier: the archive under test, a loopback blackhole, a sandbox per test.

The archive is built from the sources into a temporary folder once per test
process (never into dist/). Each test gets a fresh Sandbox: HOME, XDG
folders, a git repository with one commit; the test installs agent-sync into
it the way a user would (`sandbox.install(...)`). A CLI that cannot be
installed or started fails the test: nothing here skips.
"""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))  # agent_sync's pure helpers (identity hashes)

import harness  # noqa: E402


@pytest.fixture(scope="session")
def pyz(tmp_path_factory):
    return harness.build_pyz(tmp_path_factory.mktemp("pyz"))


@pytest.fixture(scope="session")
def blackhole():
    """Where every proxy variable of every sandbox points: nothing reaches beyond loopback."""
    with harness.Blackhole() as hole:
        yield hole


@pytest.fixture
def sandbox(tmp_path, pyz, blackhole):
    before = len(blackhole.requests)
    box = harness.Sandbox(tmp_path, pyz, blackhole)
    yield box
    box.close()
    leaks = blackhole.targets()[before:]
    assert not leaks, f"the agent tried to reach beyond loopback: {leaks}"

