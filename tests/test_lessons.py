"""Every lesson runs as a plain script in its fast mode (MINISNIP_FAST=1)."""
import os
import pathlib
import subprocess
import sys

import pytest

LESSONS = sorted((pathlib.Path(__file__).parent.parent / "lessons").glob("[0-9][0-9]_*.py"))


def test_there_are_lessons():
    assert len(LESSONS) >= 2


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs(lesson, tmp_path):
    env = dict(os.environ, MINISNIP_FAST="1", MPLBACKEND="Agg",
               PYTHONPATH=str(lesson.parent.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, str(lesson)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{lesson.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.stdout.strip(), f"{lesson.name} printed nothing"
