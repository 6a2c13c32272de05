"""The committed Claude Code and Copilot fixtures still have the shape the pinned CLIs send.

The fixture-based suites (test_hooks_contract.py, test_adapters.py) run on
tests/fixtures/; this drives the real CLIs through the recording session of
payloads.py and compares the structure (keys, nesting, value types) of each
recorded payload with its fixture. Re-record with `python3 tests/agents/payloads.py`.
"""

import json

import pytest
from payloads import FIXTURES, SESSIONS_BY_AGENT, shape


@pytest.mark.parametrize("agent", sorted(SESSIONS_BY_AGENT))
def test_fixtures_have_the_shape_of_real_payloads(sandbox, agent):
    real = SESSIONS_BY_AGENT[agent](sandbox)
    stale = []
    for name, payload in sorted(real.items()):
        path = FIXTURES / agent / f"{name}.json"
        committed = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        if committed is None or shape(committed) != shape(payload):
            stale.append(name)
    assert not stale, (f"{agent} fixtures differ from what the pinned CLI sends: {stale}; "
                       "re-record them with `python3 tests/agents/payloads.py`")
