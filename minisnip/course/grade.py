"""Grade a tree (a student's, or the repository itself) task by task.

The tests run in a fresh process: ``python -m pytest`` on a temporary folder holding copies of
each task's tests (the ones the student saw, the instructor's from ``course/hidden/``, and any
in ``--hidden DIR`` named ``task_A_T*.py``), with the tree first on ``PYTHONPATH`` and a guard
that stops the session if ``minisnip`` is imported from anywhere else. An assignment's tasks
first run together, in one process (starting Python, NumPy and Numba costs seconds); if that
process runs out of time or dies, each task runs again in a process of its own with its own
time limit, so one task's crash or endless loop fails that task and no other. Points: the
task's points times the fraction of its tests that passed.

Kernels are not compiled unless the task is about kernels (``Task.jit``): the grader sets
``NUMBA_DISABLE_JIT=1``, so a fresh tree costs no compilation and a Python error in a
student's kernel shows as a Python traceback.
"""
from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from typing import Optional

from .catalog import Assignment, Task, assignments, get

GUARD = '''"""The grader's guard: the tree under test, and only it, provides minisnip."""
import os

import pytest

TREE = os.path.realpath(os.environ["MINISNIP_COURSE_TREE"])


def pytest_configure(config):
    import minisnip
    where = os.path.realpath(minisnip.__file__)
    if not where.startswith(os.path.join(TREE, "minisnip") + os.sep):
        raise pytest.UsageError(f"minisnip was imported from {where}, not from the tree "
                                f"being graded ({TREE})")
'''


@dataclasses.dataclass
class TaskResult:
    task: str
    points: float
    max_points: float
    passed: list
    failed: list
    note: str = ""
    report: str = ""

    def as_dict(self) -> dict:
        out = dict(task=self.task, points=self.points, max_points=self.max_points,
                   passed=self.passed, failed=self.failed)
        if self.note:
            out["note"] = self.note
        if self.report:
            out["report"] = self.report
        return out


def check_tree(tree: str) -> str:
    tree = os.path.abspath(tree)
    if not os.path.isfile(os.path.join(tree, "minisnip", "__init__.py")):
        raise ValueError(f"{tree!r} is not a minisnip tree: it has no minisnip/__init__.py "
                         f"(grade the folder that `minisnip course build` made, or the "
                         f"repository)")
    return tree


def test_files(task: Task, hidden_dirs=()) -> list:
    files = [task.test_file(), task.test_file(hidden=True)]
    for folder in hidden_dirs:
        files += sorted(glob.glob(os.path.join(folder, f"{task.slug}*.py")))
    return [f for f in files if os.path.isfile(f)]


def run_task(tree: str, task: Task, hidden_dirs=(), timeout: Optional[float] = None) -> TaskResult:
    """Run one task's tests against ``tree`` in a fresh process; never raises for a failure."""
    return run_tasks(tree, [task], hidden_dirs, timeout)[task.id]


def run_tasks(tree: str, tasks: list, hidden_dirs=(), timeout: Optional[float] = None) -> dict:
    """Run the tests of ``tasks`` against ``tree`` in ONE fresh process (they must all share
    ``jit``); ``{task id: TaskResult}``. If the process runs out of time or dies (a crash, not
    a failing test), every task of it fails with a note: :func:`grade` then runs them apart."""
    timeout = timeout or max(t.timeout for t in tasks)
    with tempfile.TemporaryDirectory(prefix="grade-") as work:
        files = {}
        for task in tasks:
            for i, src in enumerate(test_files(task, hidden_dirs)):
                name = f"test_{task.slug}_{i}_{os.path.basename(src)}"
                shutil.copyfile(src, os.path.join(work, name))
                files[name[:-3]] = task.id
        with open(os.path.join(work, "conftest.py"), "w") as f:
            f.write(GUARD)
        report = os.path.join(work, "report.xml")
        notes = os.path.join(work, "report.txt")
        env = dict(os.environ, PYTHONPATH=tree, MINISNIP_COURSE_TREE=tree,
                   MINISNIP_COURSE_REPORT=notes, PYTHONDONTWRITEBYTECODE="1",
                   NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")   # one thread each: quiet, and speeds comparable
        env.pop("NUMBA_DISABLE_JIT", None)
        if not any(t.jit for t in tasks):
            env["NUMBA_DISABLE_JIT"] = "1"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   "--rootdir", work, "-o", "addopts=", f"--junitxml={report}",
                   *sorted(f + ".py" for f in files)]
        process = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return {t.id: TaskResult(t.id, 0.0, t.points, [], ["(all: time limit)"],
                                     note=f"stopped after {timeout:g} s") for t in tasks}
        results = _parse(report, files)
        reported = open(notes).read().strip() if os.path.isfile(notes) else ""
        if process.returncode not in (0, 1):
            last = " | ".join(output.strip().splitlines()[-3:]) or "no output"
            return {t.id: TaskResult(t.id, 0.0, t.points, [], ["(all: the tests did not run)"],
                                     note=f"pytest exit {process.returncode}: {last}")
                    for t in tasks}
    out = {}
    for task in tasks:
        passed, failed = results.get(task.id, ([], []))
        total = len(passed) + len(failed)
        points = round(task.points * len(passed) / total, 2) if total else 0.0
        out[task.id] = TaskResult(task.id, points, task.points, passed, failed,
                                  note="" if total else "no test ran",
                                  report="\n".join(line.split("|", 1)[1] for line in
                                                    reported.splitlines()
                                                    if line.startswith(task.id + "|")))
    return out


def _parse(report: str, files: dict) -> dict:
    """``{task id: (passed, failed)}`` from pytest's JUnit XML, mapping each test back to its
    task through the name of its file (``files``: module name -> task id); errors and
    failures fail, skips do not count."""
    out = {}
    if not os.path.isfile(report):
        return out
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").split(".")[0]
        task = files.get(module)
        if task is None:
            continue
        label = f"{module.split('_', 4)[-1]}::{case.get('name', '?')}"
        outcomes = {child.tag for child in case}
        if "skipped" in outcomes:
            continue
        passed, failed = out.setdefault(task, ([], []))
        (failed if outcomes & {"failure", "error"} else passed).append(label)
    return out


def grade(tree: str, names=None, hidden_dirs=(), task_ids=None, progress=None,
          timeout: Optional[float] = None) -> dict:
    """Grade ``tree`` on the assignments ``names`` (default all); returns the JSON-ready
    ``{"assignments": [{"name", "points", "max_points", "tasks": [...]}]}``. ``timeout``
    (seconds) replaces every task's own time limit."""
    tree = check_tree(tree)
    for folder in hidden_dirs:
        if not os.path.isdir(folder):
            raise ValueError(f"--hidden {folder!r} is not a folder")
    chosen = [get(n) for n in names] if names else assignments()
    out = []
    for assignment in chosen:
        tasks = [t for t in assignment.tasks if not task_ids or t.id in task_ids]
        results = {}
        for jit in (False, True):                      # one process per kind, first
            group = [t for t in tasks if t.jit == jit]
            if group:
                results.update(run_tasks(tree, group, hidden_dirs, timeout))
        for task in tasks:                             # a crash or time-out: each task apart
            if results[task.id].note and len(tasks) > 1:
                results[task.id] = run_task(tree, task, hidden_dirs, timeout)
        for task in tasks:
            if progress:
                progress(assignment, results[task.id])
        ordered = [results[t.id] for t in tasks]
        out.append(dict(name=assignment.name, points=round(sum(r.points for r in ordered), 2),
                        max_points=float(sum(r.max_points for r in ordered)),
                        tasks=[r.as_dict() for r in ordered]))
    return dict(tree=tree, assignments=out)


def table(result: dict) -> str:
    lines = [f"{'assignment':12s} {'task':6s} {'points':>13s}  tests"]
    for a in result["assignments"]:
        for t in a["tasks"]:
            total = len(t["passed"]) + len(t["failed"])
            lines.append(f"{a['name']:12s} {t['task']:6s} {t['points']:6g} / {t['max_points']:<5g}"
                         f"  {len(t['passed'])}/{total} passed"
                         + (f"  ({t['note']})" if t.get("note") else ""))
            lines += [f"{'':20s} {line}" for line in t.get("report", "").splitlines()]
        lines.append(f"{a['name']:12s} {'total':6s} {a['points']:6g} / {a['max_points']:<5g}")
    return "\n".join(lines)


def listing(with_ids: bool = True) -> dict:
    """The course without results: the same shape as ``grade``'s JSON."""
    return dict(assignments=[dict(
        name=a.name, number=a.number, title=a.title, max_points=a.max_points,
        tasks=[dict(task=t.id, title=t.title, points=t.points, max_points=t.points,
                    minutes=t.minutes, functions=list(t.functions), depends=list(t.depends))
               for t in a.tasks]) for a in assignments()])


__all__ = ["grade", "run_task", "table", "listing", "TaskResult", "Assignment"]
