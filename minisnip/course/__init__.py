"""The course kit: assignments generated from the library itself, and their grader.

An assignment blanks functions of the library (their body becomes ``raise
NotImplementedError("Task 4.2: ...")``; signature and docstring stay) and gives the student
the statement and the tests of each task; the grader runs the task's tests, visible and
hidden, on the student's tree. Nothing is written twice: the library is the solution.

- :mod:`.catalog`: what an assignment and a task are; ``assignments()``, ``get(name)``.
- :mod:`.assignments`: one module per assignment (statements, points, functions).
- ``tasks/`` and ``hidden/``: each task's tests, the student's and the instructor's.
- :mod:`.blanking`: the source transformation; :mod:`.build`: the student tree;
  :mod:`.grade`: the grader; :mod:`.command`: ``minisnip course list | build | grade``.
- :mod:`.testing`: helpers the tests share (an op's backward called directly, finite
  differences).
"""
