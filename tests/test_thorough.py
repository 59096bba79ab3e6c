"""The property tests in depth: the whole fast suite again under hypothesis's "thorough"
profile (300 random examples per property instead of 25 derandomized ones). Too long for
every commit; run it on a schedule or before a release:

    python3 -m pytest -m slow tests/test_thorough.py
"""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_every_property_with_the_thorough_profile():
    env = dict(os.environ, HYPOTHESIS_PROFILE="thorough")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "-m", "not slow", "-x", "tests"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
