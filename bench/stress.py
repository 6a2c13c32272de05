#!/usr/bin/env python3
"""Runs the stress and fault scenarios at full size (`make stress`): see tests/stress_scenarios.py, shared with the tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from stress_scenarios import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
