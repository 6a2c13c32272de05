#!/usr/bin/env python3
"""Runs the scale and retention benchmarks at full size (`make stress`): see tests/scale_scenarios.py, shared with the tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from scale_scenarios import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
