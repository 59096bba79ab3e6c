"""The course kit, proved: every task's tests fail in the generated student tree and pass in the
solution; each task passes with only its own solution (and its declared dependencies) put
back; the tree holds no solution and no instructor's test; the grader isolates tasks and
grades the tree it is given, not another installed copy."""
import json
import os

import pytest

from minisnip.cli import main
from minisnip.course import build as builder
from minisnip.course.catalog import assignments, get
from minisnip.course.grade import grade

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSIGNMENTS = [a.name for a in assignments()]


def _files(root):
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


def test_list_json_has_the_grade_shape(capsys):
    assert main(["course", "list", "--json"]) == 0
    course = json.loads(capsys.readouterr().out)
    assert len(course["assignments"]) >= 3
    for a in course["assignments"]:
        assert {"name", "max_points", "tasks"} <= set(a)
        assert a["max_points"] == sum(t["max_points"] for t in a["tasks"])
        for t in a["tasks"]:
            assert {"task", "max_points", "title", "minutes"} <= set(t)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_tree_is_deterministic_blanked_and_holds_no_solution(name, tmp_path):
    first = builder.build(name, str(tmp_path / "a"))
    builder.build(name, str(tmp_path / "b"))
    assert _files(tmp_path / "a") == _files(tmp_path / "b") == {
        k: v for k, v in first.items()}                       # the same bytes, twice
    files = _files(tmp_path / "a")
    assert not [p for p in files if "__pycache__" in p or p.endswith((".pyc", ".nbi", ".nbc"))]
    assert not [p for p in files if "hidden" in p.split(os.sep)]
    assignment = get(name)
    for task in assignment.tasks:
        for function in task.functions:
            path = os.path.join("minisnip", function.split(":")[0])
            assert f"Task {task.id} " in files[path].decode(), function
        assert os.path.join("tests", f"test_{task.slug}.py") in files
    assert b"pip install" in files["ASSIGNMENT.md"] or b"pytest" in files["ASSIGNMENT.md"]


def test_a_leaked_solution_is_refused(monkeypatch, tmp_path):
    """Plant a task's body in the statement: the build must refuse the tree."""
    from minisnip.course.blanking import body_source
    a = get("autodiff")
    source = open(os.path.join(builder.PACKAGE, "autograd.py")).read()
    leak = body_source(source, "unbroadcast")
    monkeypatch.setattr(builder, "statement", lambda assignment: "```\n" + leak + "```\n")
    with pytest.raises(builder.BuildError, match="unbroadcast"):
        builder.build(a.name, str(tmp_path / "t"))
    assert not (tmp_path / "t").exists()


def test_build_refuses_a_folder_in_use_and_an_unknown_assignment(tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "mine.txt").write_text("keep me")
    with pytest.raises(builder.BuildError, match="not an empty folder"):
        builder.build("autodiff", str(tmp_path / "used"))
    assert (tmp_path / "used" / "mine.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="unknown assignment"):
        builder.build("quantum", str(tmp_path / "new"))


def test_the_repository_itself_gets_full_points():
    result = grade(REPO)
    for a in result["assignments"]:
        for t in a["tasks"]:
            assert t["points"] == t["max_points"] and not t["failed"], (a["name"], t)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_task_fails_untouched_and_passes_with_only_its_solution(name, tmp_path):
    assignment = get(name)
    builder.build(name, str(tmp_path / "student"))
    untouched = grade(str(tmp_path / "student"), [name])["assignments"][0]
    for t in untouched["tasks"]:
        assert t["points"] == 0 and t["failed"] and not t["passed"], t
    for task in assignment.tasks:
        tree = str(tmp_path / f"only-{task.slug}")
        builder.build(name, tree, keep=(task.id,) + task.depends)
        result = grade(tree, [name], task_ids=[task.id])["assignments"][0]["tasks"][0]
        assert result["points"] == task.points and not result["failed"], (task.id, result)


def test_one_task_looping_forever_or_crashing_costs_only_that_task(tmp_path):
    a = get("gradcheck")
    tree = str(tmp_path / "t")
    builder.build(a.name, tree, keep=tuple(t.id for t in a.tasks))   # all solved
    path = os.path.join(tree, "minisnip", "gradcheck.py")
    source = open(path).read()
    source = source.replace('def _full_jacobian_check(loss_at, x0, analytic, i, eps, atol, rtol):\n',
                            'def _full_jacobian_check(loss_at, x0, analytic, i, eps, atol, rtol):\n'
                            '    while True:\n        pass\n', 1)
    source = source.replace('def _random_direction_check(', 'import os\n\n\ndef _crash():\n'
                            '    os._exit(3)\n\n\ndef _random_direction_check(', 1)
    open(path, "w").write(source)
    result = grade(tree, ["gradcheck"], timeout=20)["assignments"][0]["tasks"]
    by_task = {t["task"]: t for t in result}
    assert by_task["2.1"]["points"] == 0 and "stopped after" in by_task["2.1"]["note"]
    assert by_task["2.2"]["points"] == by_task["2.2"]["max_points"]


def test_the_grader_refuses_a_tree_that_imports_another_minisnip(tmp_path):
    tree = tmp_path / "impostor"
    (tree / "minisnip").mkdir(parents=True)
    (tree / "minisnip" / "__init__.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {REPO!r})\n"
        "del sys.modules['minisnip']\n"
        "import minisnip as _real\n"
        "sys.modules['minisnip'] = _real\n")
    result = grade(str(tree), ["autodiff"], task_ids=["1.1"], timeout=60)
    task = result["assignments"][0]["tasks"][0]
    assert task["points"] == 0 and "not from the tree" in task["note"]


def test_grade_cli_writes_the_json(tmp_path, capsys):
    out = tmp_path / "g.json"
    builder.build("gradcheck", str(tmp_path / "t"))
    assert main(["course", "grade", str(tmp_path / "t"), "--assignment", "gradcheck",
                 "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["assignments"][0]["name"] == "gradcheck"
    assert data["assignments"][0]["points"] == 0
    assert main(["course", "grade", str(tmp_path / "nowhere")]) == 2
    assert "not a minisnip tree" in capsys.readouterr().err
