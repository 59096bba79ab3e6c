"""A student's tree, generated from the library itself: the package with the assignment's
functions blanked, the statement, the visible tests, and a setup.py to ``pip install -e``.

Nothing is written twice: the student's ``minisnip/`` is this package's own source with the
bodies of the task functions replaced (``blanking.py``). What never reaches a student tree:
the instructor's tests (``course/hidden/``), compiled files (``__pycache__``: bytecode and
Numba's cache hold the solutions), and the solution text itself (checked after every build:
the body of every blanked function, and every other task's too, is searched for in every file
written). The same library and assignment give the same bytes.
"""
from __future__ import annotations

import json
import os
import shutil

from .. import _meta
from .blanking import blank, body_source
from .catalog import HERE, Assignment, Task, get

PACKAGE = os.path.dirname(HERE)          # the minisnip package being taught
REPOSITORY = os.path.dirname(PACKAGE)    # a clone: its lessons/ and DESIGN.md go along
SKIPPED_DIRS = {"__pycache__", "hidden"}
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".nbi", ".nbc", ".so")


class BuildError(ValueError):
    """The tree cannot be built (a bad assignment name, an output folder in the way)."""


def message(task: Task, function: str) -> str:
    if function in task.hidden_oracles:
        return (f"{function.split(':', 1)[1]} is hidden while task {task.id} ({task.title}) "
                f"is an assignment: it would give the solution away")
    return (f"Task {task.id} ({task.title}): write {function.split(':', 1)[1]} "
            f"(see ASSIGNMENT.md)")


def blanked_sources(assignment: Assignment, keep=()) -> dict:
    """``{path relative to the package: blanked source}`` for every file with a task function
    of ``assignment``, except the tasks whose ids are in ``keep`` (left solved)."""
    names = {}
    for task in assignment.tasks:
        if task.id in keep:
            continue
        for function in task.functions + task.hidden_oracles:
            path, qualname = function.split(":", 1)
            names.setdefault(path, {})[qualname] = message(task, function)
    out = {}
    for path, functions in sorted(names.items()):
        with open(os.path.join(PACKAGE, path), encoding="utf-8") as f:
            out[path] = blank(f.read(), functions, path)
    return out


def _package_files() -> list:
    """Every file of the package that a student tree carries, sorted (relative paths)."""
    files = []
    for root, dirs, names in os.walk(PACKAGE):
        rel = os.path.relpath(root, PACKAGE)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(names):
            if not name.endswith(SKIPPED_SUFFIXES):
                files.append(os.path.normpath(os.path.join(rel, name)))
    return sorted(files)


def statement(assignment: Assignment) -> str:
    """ASSIGNMENT.md: the introduction, then every task with its points and expected time."""
    lines = [f"# Assignment {assignment.number}: {assignment.title}", "",
             assignment.introduction.strip(), "",
             f"{len(assignment.tasks)} tasks, {assignment.max_points:g} points.", "",
             "## Working in this tree", "",
             "* Install it in a virtual environment of its own (`python3 -m venv .venv && . "
             ".venv/bin/activate && pip install -e \".[test]\"`): then `minisnip`, the lessons "
             "in `lessons/` and the tests all run **your** code. A lesson that needs a task "
             "you have not written yet stops at its `NotImplementedError`.",
             "* `python -m pytest tests/` runs the tests you can see; `minisnip course grade "
             ".` scores them per task. Your instructor's grader also runs tests you cannot "
             "see, so test your code beyond them.",
             "* `DESIGN.md` (the architecture and its principles) and `lessons/` are the "
             "library's; the files named below are yours to complete.", ""]
    for task in assignment.tasks:
        where = ", ".join(f"`minisnip/{f.replace(':', '` `')}`" for f in task.functions)
        lines += [f"## Task {task.id}: {task.title} ({task.points:g} points, about "
                  f"{task.minutes} min)", "", f"Write: {where}.", ""]
        if task.depends:
            lines += [f"Needs your solution of task {', '.join(task.depends)}.", ""]
        lines += [task.statement.strip(), "",
                  f"Its tests: `tests/test_{task.slug}.py`.", ""]
    return "\n".join(lines)


def setup_py() -> str:
    return (f'"""A student tree of the minisnip course: pip install -e ".[test]"."""\n'
            f"from setuptools import find_packages, setup\n\n"
            f"setup(\n"
            f"    name=\"minisnip\",\n"
            f"    version={_meta.VERSION!r},\n"
            f"    python_requires={_meta.PYTHON_REQUIRES!r},\n"
            f"    packages=find_packages(include=[\"minisnip\", \"minisnip.*\"]),\n"
            f"    package_data={{\"minisnip\": [\"datasets/*.npz\"]}},\n"
            f"    install_requires={_meta.INSTALL_REQUIRES!r},\n"
            f"    extras_require={{\"test\": {_meta.EXTRAS_REQUIRE['test']!r}}},\n"
            f"    entry_points={{\"console_scripts\": [\"minisnip=minisnip.cli:main\"]}},\n"
            f")\n")


CONFTEST = '''"""Tests of this tree run against this tree's minisnip, never another installed copy."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
'''


def build(name: str, out: str, keep=()) -> dict:
    """Write the student tree of assignment ``name`` into the new folder ``out``; returns
    ``{relative path: bytes written}``. ``keep``: ids of tasks to leave solved (for checking
    that a task's tests need nothing else)."""
    marker = os.path.join(HERE, "tree.json")
    if os.path.isfile(marker):
        raise BuildError(f"this minisnip ({PACKAGE}) is a student tree, whose tasks are "
                         f"blanked: build assignments from the full library (your clone of "
                         f"the repository, installed in its own virtual environment)")
    assignment = get(name)
    unknown = set(keep) - {t.id for t in assignment.tasks}
    if unknown:
        raise BuildError(f"keep: no task {', '.join(sorted(unknown))} in {assignment.name}")
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        raise BuildError(f"--out {out!r} exists and is not an empty folder: choose a new one "
                         f"(nothing is overwritten)")
    blanked = blanked_sources(assignment, keep)
    written = {}
    for rel in _package_files():
        src = os.path.join(PACKAGE, rel)
        if rel in blanked:
            data = blanked[rel].encode("utf-8")
        else:
            with open(src, "rb") as f:
                data = f.read()
        written[os.path.join("minisnip", rel)] = data
    written[os.path.join("minisnip", "course", "tree.json")] = json.dumps(
        dict(assignment=assignment.name, solved=sorted(keep)), indent=2).encode() + b"\n"
    for extra in sorted(_repository_files()):
        with open(os.path.join(REPOSITORY, extra), "rb") as f:
            written[extra] = f.read()
    written["setup.py"] = setup_py().encode()
    written["ASSIGNMENT.md"] = statement(assignment).encode()
    written[os.path.join("tests", "conftest.py")] = CONFTEST.encode()
    for task in assignment.tasks:
        with open(task.test_file(), "rb") as f:
            written[os.path.join("tests", f"test_{task.slug}.py")] = f.read()
    check_no_solution(assignment, written, keep)
    for rel, data in sorted(written.items()):
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return written


def _repository_files() -> list:
    """The clone's lessons and DESIGN.md, when the package is a clone's (relative paths)."""
    files = []
    if os.path.isfile(os.path.join(REPOSITORY, "DESIGN.md")):
        files.append("DESIGN.md")
    lessons = os.path.join(REPOSITORY, "lessons")
    if os.path.isdir(lessons):
        files += [os.path.join("lessons", n) for n in sorted(os.listdir(lessons))
                  if n.endswith((".py", ".md"))]
    return files


def check_no_solution(assignment: Assignment, files: dict, keep=()) -> None:
    """Refuse a tree that contains the body of a blanked function, or an instructor's test."""
    hidden = {os.path.basename(t.test_file(hidden=True)) for t in assignment.tasks}
    for rel in files:
        if "hidden" in rel.split(os.sep) and os.path.basename(rel) in hidden:
            raise BuildError(f"an instructor's test would reach the student tree: {rel}")
    bodies = []
    for task in assignment.tasks:
        if task.id in keep:
            continue
        for function in task.functions + task.hidden_oracles:
            path, qualname = function.split(":", 1)
            with open(os.path.join(PACKAGE, path), encoding="utf-8") as f:
                bodies.append((function, body_source(f.read(), qualname)))
    for rel, data in files.items():
        if not rel.endswith((".py", ".md", ".txt")):
            continue
        text = data.decode("utf-8", errors="replace")
        for function, body in bodies:
            if body.strip() and body in text:
                raise BuildError(f"the solution of {function} would reach the student tree "
                                 f"in {rel}")


def remove(out: str) -> None:
    shutil.rmtree(out, ignore_errors=True)
