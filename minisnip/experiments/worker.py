"""One run of an experiment in its own process: ``python -m minisnip.experiments.worker``
reads a task (JSON, from :func:`minisnip.experiments.runner.task_for`) on standard input, runs
it and writes its record. The parent (:func:`minisnip.experiments.launchers.run_in_processes`)
sets the thread count in this process's environment before it starts."""
from __future__ import annotations

import json
import sys


def main() -> int:
    from .runner import execute
    task = json.loads(sys.stdin.read())
    path = execute(task)
    print(f"wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
