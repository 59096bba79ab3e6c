"""Grade a tree (a student's, or the repository itself) task by task.

The tests run in a fresh process: ``python -m pytest`` on a temporary folder holding copies of
each task's tests (the ones the student saw, the instructor's from ``course/hidden/``, and
any in ``--hidden DIR`` named ``task_A_T*.py``, with the other files of that folder beside
them as helpers). Only the tree's ``minisnip`` package is importable from the tree (a
temporary folder holding a link to it is on ``PYTHONPATH``, never the tree's root, so a file
the student left there cannot shadow pytest or the standard library), and a guard stops the
session if ``minisnip`` is imported from anywhere else.

An assignment's tasks first run together, in one process (starting Python, NumPy and Numba
costs seconds); if that process runs out of time or dies, each task runs again in a process
of its own, so one task's crash or endless loop fails that task and no other (a task whose
dependency ran out of time is not run again: it fails at once). Every test also has its own
time limit inside the process. Points: the task's points times the fraction of its tests that
passed. A crash is reported with the test that was running and the last lines of output.

Kernels are not compiled unless the task is about kernels (``Task.jit``): the grader sets
``NUMBA_DISABLE_JIT=1``, so a fresh tree costs no compilation and a Python error in a
student's kernel shows as a Python traceback.
"""
from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from typing import Optional

from .catalog import HERE, Task, assignments, get

TREE_MARKER = "tree.json"      # minisnip/course/tree.json in a student tree: its assignment

GUARD = '''"""The grader's guard: the tree under test, and only it, provides minisnip; every test has
a time limit; the test being run is noted, so that a crash can be reported with it."""
import os
import signal

import pytest

TREE = os.path.realpath(os.environ["MINISNIP_COURSE_TREE"])
LIMIT = float(os.environ.get("MINISNIP_COURSE_TEST_TIMEOUT", "0"))
RUNNING = os.environ.get("MINISNIP_COURSE_RUNNING")


def pytest_configure(config):
    import minisnip
    where = os.path.realpath(minisnip.__file__)
    if not where.startswith(os.path.join(TREE, "minisnip") + os.sep):
        raise pytest.UsageError(f"minisnip was imported from {where}, not from the tree "
                                f"being graded ({TREE})")


def pytest_runtest_logstart(nodeid, location):
    if RUNNING:
        with open(RUNNING, "w") as f:
            f.write(nodeid)


def _too_long(signum, frame):
    raise TimeoutError(f"this test ran longer than its time limit ({LIMIT:g} s)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if LIMIT > 0:
        signal.signal(signal.SIGALRM, _too_long)
        signal.setitimer(signal.ITIMER_REAL, LIMIT)
    try:
        yield
    finally:
        if LIMIT > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)
'''

TEST_TIMEOUT = 60.0            # seconds per test, inside the process
OUTPUT_TAIL = 8                # lines of output quoted when a run fails to finish


@dataclasses.dataclass
class TaskResult:
    task: str
    points: float
    max_points: float
    passed: list
    failed: list
    note: str = ""
    report: str = ""
    feedback: dict = dataclasses.field(default_factory=dict)
    timed_out: bool = False

    def as_dict(self) -> dict:
        out = dict(task=self.task, points=self.points, max_points=self.max_points,
                   passed=self.passed, failed=self.failed)
        for key in ("note", "report", "feedback"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


def check_tree(tree: str) -> str:
    tree = os.path.abspath(tree)
    if not os.path.isfile(os.path.join(tree, "minisnip", "__init__.py")):
        raise ValueError(f"{tree!r} is not a minisnip tree: it has no minisnip/__init__.py "
                         f"(grade the folder that `minisnip course build` made, or the "
                         f"repository)")
    return tree


def tree_assignment(tree: str) -> Optional[str]:
    """The assignment a student tree was built for (None for the full library)."""
    path = os.path.join(tree, "minisnip", "course", TREE_MARKER)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f).get("assignment")


def test_files(task: Task, hidden_dirs=(), builtin_hidden: bool = True) -> list:
    """``[(kind, path)]``: the student's tests, the built-in hidden ones, the instructor's."""
    files = [("visible", task.test_file())]
    if builtin_hidden:
        files.append(("hidden", task.test_file(hidden=True)))
    for folder in hidden_dirs:
        files += [("instructor", f) for f in
                  sorted(glob.glob(os.path.join(folder, f"{task.slug}*.py")))
                  if re.fullmatch(rf"{task.slug}(_.*)?\.py", os.path.basename(f))]
    return [(kind, f) for kind, f in files if os.path.isfile(f)]


def check_hidden_dirs(hidden_dirs) -> None:
    """Every ``task_*.py`` of an instructor's folder must name a task of the course."""
    slugs = {t.slug for a in assignments() for t in a.tasks}
    for folder in hidden_dirs:
        if not os.path.isdir(folder):
            raise ValueError(f"--hidden {folder!r} is not a folder")
        for path in sorted(glob.glob(os.path.join(folder, "task_*.py"))):
            name = os.path.basename(path)[:-3]
            if not any(name == s or name.startswith(s + "_") for s in slugs):
                raise ValueError(f"--hidden: {path} matches no task (files are named "
                                 f"task_A_T.py or task_A_T_anything.py, e.g. task_4_2.py; the "
                                 f"tasks: `minisnip course list`)")


def run_task(tree: str, task: Task, hidden_dirs=(), timeout: Optional[float] = None,
             builtin_hidden: bool = True) -> TaskResult:
    """Run one task's tests against ``tree`` in a fresh process; never raises for a failure."""
    return run_tasks(tree, [task], hidden_dirs, timeout, builtin_hidden)[task.id]


def run_tasks(tree: str, tasks: list, hidden_dirs=(), timeout: Optional[float] = None,
              builtin_hidden: bool = True) -> dict:
    """Run the tests of ``tasks`` against ``tree`` in ONE fresh process (they must all share
    ``jit``); ``{task id: TaskResult}``. If the process runs out of time or dies (a crash, not
    a failing test), every task of it fails with a note saying what was running: :func:`grade`
    then runs them apart."""
    timeout = timeout or max(t.timeout for t in tasks)
    with tempfile.TemporaryDirectory(prefix="grade-") as work:
        files = {}
        for task in tasks:
            for kind, src in test_files(task, hidden_dirs, builtin_hidden):
                module = f"{kind}__{task.slug}__{os.path.basename(src)[:-3]}"
                shutil.copyfile(src, os.path.join(work, module + ".py"))
                files[module] = (task.id, kind)
        for folder in hidden_dirs:                 # an instructor's helper modules
            for src in glob.glob(os.path.join(folder, "*.py")):
                if not os.path.basename(src).startswith("task_"):
                    shutil.copyfile(src, os.path.join(work, os.path.basename(src)))
        with open(os.path.join(work, "conftest.py"), "w") as f:
            f.write(GUARD)
        path_dir = os.path.join(work, "_path")     # only the tree's package is importable
        os.makedirs(path_dir)
        os.symlink(os.path.join(tree, "minisnip"), os.path.join(path_dir, "minisnip"))
        report, notes = os.path.join(work, "report.xml"), os.path.join(work, "report.txt")
        running, output = os.path.join(work, "running.txt"), os.path.join(work, "output.txt")
        env = dict(os.environ, PYTHONPATH=path_dir, MINISNIP_COURSE_TREE=tree,
                   MINISNIP_COURSE_REPORT=notes, MINISNIP_COURSE_RUNNING=running,
                   MINISNIP_COURSE_TEST_TIMEOUT=str(min(TEST_TIMEOUT, timeout)),
                   PYTHONDONTWRITEBYTECODE="1",
                   NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")   # one thread each: quiet, and speeds comparable
        env.pop("NUMBA_DISABLE_JIT", None)
        if not any(t.jit for t in tasks):
            env["NUMBA_DISABLE_JIT"] = "1"
        command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                   "--rootdir", work, "-o", "addopts=", f"--junitxml={report}",
                   *sorted(m + ".py" for m in files)]
        with open(output, "w") as sink:           # to a file: a test that prints a lot
            process = subprocess.Popen(command, cwd=work, env=env, stdout=sink,  # costs disk,
                                       stderr=subprocess.STDOUT,                 # not memory
                                       start_new_session=True)
            try:
                process.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                timed_out = True
        was_running = _read(running)
        tail = _tail(output)
        if timed_out or not os.path.isfile(report):
            why = (f"stopped after {timeout:g} s" if timed_out else
                   f"the test process ended (exit code {process.returncode}) before it finished")
            where = f" while running {was_running}" if was_running else ""
            return {t.id: TaskResult(t.id, 0.0, t.points, [], [],
                                     note=f"{why}{where}: {tail}", timed_out=timed_out)
                    for t in tasks}
        results = _parse(report, files)
        reported = _read(notes)
    out = {}
    for task in tasks:
        passed, failed, feedback = results.get(task.id, ([], [], {}))
        total = len(passed) + len(failed)
        points = round(task.points * len(passed) / total, 2) if total else 0.0
        out[task.id] = TaskResult(
            task.id, points, task.points, passed, failed,
            note="" if total else f"no test ran: {tail}",
            report="\n".join(line.split("|", 1)[1] for line in reported.splitlines()
                             if line.startswith(task.id + "|")),
            feedback=feedback)
    return out


def _read(path: str) -> str:
    if not os.path.isfile(path):
        return ""
    with open(path, errors="replace") as f:
        return f.read().strip()


def _tail(path: str) -> str:
    """The last lines of a run's output that say something (where an error was raised)."""
    if not os.path.isfile(path):
        return "no output"
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(max(0, size - 20_000))
        lines = f.read().decode(errors="replace").splitlines()
    useful = [line.strip() for line in lines if line.strip() and not set(line.strip()) <= set("=-_.")]
    return " | ".join(useful[-OUTPUT_TAIL:]) or "no output"


def _parse(report: str, files: dict) -> dict:
    """``{task id: (passed, failed, feedback)}`` from pytest's JUnit XML, mapping each test to
    its task and kind through its module's name; errors and failures fail, skips do not
    count. ``feedback``: the first line of each failing *visible* test's message (an
    instructor's test fails without a word, to stay private)."""
    out = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").split(".")[0] or \
            os.path.basename(case.get("file", "")).rsplit(".", 1)[0]
        if module not in files:      # a collection error names its file differently
            module = next((m for m in files if m in (case.get("classname", "") +
                                                     case.get("name", ""))), module)
        task, kind = files.get(module, (None, None))
        if task is None:
            continue
        label = f"{kind}::{case.get('name', '?')}"
        problems = [child for child in case if child.tag in ("failure", "error")]
        if any(child.tag == "skipped" for child in case):
            continue
        passed, failed, feedback = out.setdefault(task, ([], [], {}))
        if problems:
            failed.append(label)
            if kind == "visible":
                text = (problems[0].get("message") or problems[0].text or "").strip()
                feedback[label] = text.splitlines()[0][:300] if text else "failed"
        else:
            passed.append(label)
    return out


def grade(tree: str, names=None, hidden_dirs=(), task_ids=None, progress=None,
          timeout: Optional[float] = None, builtin_hidden: bool = True) -> dict:
    """Grade ``tree`` on the assignments ``names`` (default: the one the tree was built for,
    or every assignment for the full library); returns the JSON-ready
    ``{"assignments": [{"name", "points", "max_points", "tasks": [...]}]}``. ``timeout``
    (seconds) replaces every task's own time limit. ``task_ids`` restricts to those tasks
    (each must exist). ``builtin_hidden``: run the course's own hidden tests (public in the
    repository: an instructor adds private ones with ``hidden_dirs``)."""
    tree = check_tree(tree)
    check_hidden_dirs(hidden_dirs)
    if names:
        chosen = [get(n) for n in names]
    elif task_ids:
        chosen = [a for a in assignments() if any(t.id in task_ids for t in a.tasks)]
    elif tree_assignment(tree):
        chosen = [get(tree_assignment(tree))]
    else:
        chosen = assignments()
    if task_ids:
        known = {t.id for a in chosen for t in a.tasks}
        unknown = sorted(set(task_ids) - known)
        if unknown:
            raise ValueError(f"no task {', '.join(unknown)} in "
                             f"{', '.join(a.name for a in chosen) or 'the course'} "
                             f"(`minisnip course list`)")
    out = []
    for assignment in chosen:
        tasks = [t for t in assignment.tasks if not task_ids or t.id in task_ids]
        results = {}
        for jit in (False, True):                      # one process per kind, first
            group = [t for t in tasks if t.jit == jit]
            if group:
                results.update(run_tasks(tree, group, hidden_dirs, timeout, builtin_hidden))
        crashed = {t.id for t in tasks if results[t.id].note and not results[t.id].passed
                   and not results[t.id].failed}
        if len(tasks) > 1 and crashed:                 # each task apart, dependencies first
            timed_out = set()
            for task in tasks:
                if task.id not in crashed:
                    continue
                blocking = [d for d in task.depends if d in timed_out]
                if blocking:
                    results[task.id] = TaskResult(
                        task.id, 0.0, task.points, [], [], note=f"not run: it needs task "
                        f"{', '.join(blocking)}, which ran out of time")
                    continue
                results[task.id] = run_task(tree, task, hidden_dirs, timeout, builtin_hidden)
                if results[task.id].timed_out:
                    timed_out.add(task.id)
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
            tests = f"{len(t['passed'])}/{total} passed" if total else "did not finish"
            lines.append(f"{a['name']:12s} {t['task']:6s} {t['points']:6g} / {t['max_points']:<5g}"
                         f"  {tests}" + (f"  ({t['note']})" if t.get("note") else ""))
            lines += [f"{'':20s} {line}" for line in t.get("report", "").splitlines()]
            lines += [f"{'':20s} {label}: {message}"
                      for label, message in t.get("feedback", {}).items()]
        lines.append(f"{a['name']:12s} {'total':6s} {a['points']:6g} / {a['max_points']:<5g}")
    return "\n".join(lines)


def csv_rows(results: list) -> list:
    """One row per tree, assignment and task (for a spreadsheet of a class's submissions)."""
    rows = [["tree", "assignment", "task", "points", "max_points", "passed", "failed", "note"]]
    for result in results:
        for a in result["assignments"]:
            for t in a["tasks"]:
                rows.append([result["tree"], a["name"], t["task"], t["points"], t["max_points"],
                             len(t["passed"]), len(t["failed"]), t.get("note", "")])
    return rows


def listing() -> dict:
    """The course without results: the same shape as ``grade``'s JSON."""
    return dict(assignments=[dict(
        name=a.name, number=a.number, title=a.title, max_points=a.max_points,
        tasks=[dict(task=t.id, title=t.title, points=t.points, max_points=t.points,
                    minutes=t.minutes, functions=list(t.functions), depends=list(t.depends))
               for t in a.tasks]) for a in assignments()])


__all__ = ["grade", "run_task", "table", "listing", "csv_rows", "TaskResult", "HERE"]
