"""The README's Python example runs as written."""
import pathlib
import re


def test_readme_python_example_runs(capsys):
    text = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "README has no Python example"
    namespace = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert "fc1.weight" in capsys.readouterr().out


def test_ci_runs_exactly_the_readmes_test_command():
    root = pathlib.Path(__file__).parent.parent
    command = [line for line in (root / ".ci" / "run").read_text().splitlines()
               if "pytest" in line]
    assert len(command) == 1 and command[0].strip() in (root / "README.md").read_text()
