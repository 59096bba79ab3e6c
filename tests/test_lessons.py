"""Every lesson runs to its end in its fast mode (MINISNIP_FAST=1), as a plain script and as a
notebook (its ``# %%`` cells through jupytext, executed by a Jupyter kernel). Lessons assert
the claims they print, so a lesson whose story stops being true fails here."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))
FIGURES = {"04_prune_and_train", "07_what_sparsity_buys", "08_beyond_snip",
           "09_experiments_in_miniature"}      # lessons that show a figure


def _number(lesson):
    return int(lesson.name[:2])


def test_there_are_lessons():
    assert [_number(p) for p in LESSONS] == list(range(1, 11))


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_as_a_script(lesson, tmp_path):
    env = dict(os.environ, MINISNIP_FAST="1", MINISNIP_OUT=str(tmp_path / "out"),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("MPLBACKEND", None)     # the lessons must not need one
    result = subprocess.run([sys.executable, str(lesson)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{lesson.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.stdout.strip().endswith(f"lesson {_number(lesson)} done"), result.stdout[-500:]
    assert sorted(os.listdir(tmp_path)) in ([], ["out"]), "a lesson wrote into the current folder"
    if lesson.stem in FIGURES:
        assert list((tmp_path / "out").glob("*.png")), "the figure was not saved"


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_as_a_notebook(lesson, tmp_path, monkeypatch):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("MINISNIP_FAST", "1")
    monkeypatch.setenv("MINISNIP_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    notebook = jupytext.read(lesson)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert re.search(rf"lesson {_number(lesson)} done\s*$", text), text[-500:]
    if lesson.stem in FIGURES:
        assert any("image/png" in o.get("data", {}) for o in outputs), "no figure shown inline"
        assert not (tmp_path / "out").exists(), "a notebook shows figures, it does not save them"
