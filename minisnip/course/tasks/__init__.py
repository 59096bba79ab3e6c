"""The tests a student sees, one file per task (``task_A_T.py``); not collected by the project's own test run."""
