"""The tests only the grader runs, one file per task; never copied into a student tree."""
