"""``minisnip course list | build | grade``: the course kit's command line."""
from __future__ import annotations

import json
import sys


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="course_command", required=True)
    p = sub.add_parser("list", help="the assignments, their tasks and points")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p = sub.add_parser("build", help="write a student's tree for one assignment")
    p.add_argument("assignment", help="an assignment's name or number (see `minisnip course list`)")
    p.add_argument("--out", required=True, help="a new folder for the tree")
    p = sub.add_parser("grade", help="run every task's tests on a tree and give the points")
    p.add_argument("tree", help="the folder holding the tree (with its minisnip/ package)")
    p.add_argument("--assignment", action="append", default=None,
                   help="grade only this assignment (repeatable; default: all)")
    p.add_argument("--task", action="append", default=None, help="grade only this task id")
    p.add_argument("--hidden", action="append", default=[],
                   help="a folder of your own hidden tests, task_A_T*.py (repeatable)")
    p.add_argument("--json", default=None, help="write the results here (JSON)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds allowed per task (default: each task's own, 300)")


def run(args) -> int:
    from . import build as builder
    from .grade import grade, listing, table
    from ..files import write_json, writable_target
    if args.course_command == "list":
        course = listing()
        if args.json:
            print(json.dumps(course, indent=2))
            return 0
        for a in course["assignments"]:
            print(f"{a['number']}. {a['name']}: {a['title']} ({a['max_points']:g} points)")
            for t in a["tasks"]:
                needs = f", needs {', '.join(t['depends'])}" if t["depends"] else ""
                print(f"   {t['task']:5s} {t['title']:42s} {t['points']:4g} pts  "
                      f"~{t['minutes']} min{needs}")
        return 0
    if args.course_command == "build":
        builder.build(args.assignment, args.out)
        print(f"wrote the tree of assignment {args.assignment} to {args.out}: read "
              f"{args.out}/ASSIGNMENT.md, then `cd {args.out} && pip install -e \".[test]\"`")
        return 0
    if args.json:
        writable_target(args.json, "--json")

    def progress(assignment, result):
        print(f"  {assignment.name} {result.task}: {result.points:g} / {result.max_points:g}"
              f"{'  (' + result.note + ')' if result.note else ''}", file=sys.stderr, flush=True)

    if args.timeout is not None and not args.timeout > 0:
        raise ValueError(f"--timeout must be > 0 seconds, got {args.timeout}")
    result = grade(args.tree, args.assignment, args.hidden, args.task, progress=progress,
                   timeout=args.timeout)
    print(table(result))
    if args.json:
        write_json(args.json, {"assignments": result["assignments"]})
        print(f"wrote {args.json}")
    return 0
