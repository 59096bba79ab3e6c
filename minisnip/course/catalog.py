"""What the course is made of: assignments, each a list of tasks; a task names the library
functions a student writes, its statement, points and expected time.

A task's tests live in two files named after it: ``course/tasks/task_A_T.py`` (the student
sees them, in their tree) and ``course/hidden/task_A_T.py`` (only the grader runs them; they
never reach a student tree). A task's tests may use the solution of the tasks it ``depends``
on, and of nothing else of its assignment (the course's tests prove this in CI: every task
passes in a student tree where only it and its dependencies are solved).
"""
from __future__ import annotations

import dataclasses
import importlib
import os
import pkgutil

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclasses.dataclass(frozen=True)
class Task:
    """One graded piece of an assignment.

    ``functions``: ``"module/path.py:Qualified.name"`` relative to the package folder, e.g.
    ``"autograd.py:unbroadcast"`` or ``"ops/elementwise.py:Mul.backward"``: their bodies are
    what the student writes. ``statement``: Markdown (what to implement, the equation, hints).
    ``jit``: grade with Numba compiling (the kernel tasks); otherwise the grader sets
    ``NUMBA_DISABLE_JIT=1``, so no kernel is compiled in a student's fresh tree.
    ``hidden_oracles``: functions blanked too but not the student's to write, because they
    would give the solution away (a kernel's NumPy oracle in ``kernels/reference.py`` when the
    task is that kernel); the task's tests must then not need them.
    """
    id: str
    title: str
    functions: tuple
    points: float
    minutes: int
    statement: str
    depends: tuple = ()
    jit: bool = False
    timeout: float = 300.0
    hidden_oracles: tuple = ()

    @property
    def slug(self) -> str:
        return "task_" + self.id.replace(".", "_")

    def test_file(self, hidden: bool = False) -> str:
        return os.path.join(HERE, "hidden" if hidden else "tasks", self.slug + ".py")


@dataclasses.dataclass(frozen=True)
class Assignment:
    number: int
    name: str
    title: str
    introduction: str
    tasks: tuple

    @property
    def max_points(self) -> float:
        return float(sum(t.points for t in self.tasks))

    def task(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise ValueError(f"assignment {self.name} has no task {task_id!r}; its tasks: "
                         f"{', '.join(t.id for t in self.tasks)}")


def assignments() -> list:
    """Every assignment, in course order (one module per assignment in ``assignments/``)."""
    from . import assignments as package
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.append(module.ASSIGNMENT)
    return sorted(found, key=lambda a: a.number)


def get(name: str) -> Assignment:
    """The assignment called ``name`` (or numbered ``name``)."""
    for a in assignments():
        if name in (a.name, str(a.number)):
            return a
    raise ValueError(f"unknown assignment {name!r}; available: "
                     f"{', '.join(a.name for a in assignments())} (`minisnip course list`)")
