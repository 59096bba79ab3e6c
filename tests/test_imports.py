"""The package's import structure (DESIGN, "Layout"): kernels are leaves, and there is no import
cycle except Tensor's methods reaching up (documented at the end of minisnip/tensor.py).

Every ``import`` statement counts, also those inside functions: a lazy import hides a cycle
from the interpreter, not from a reader."""
import ast
import pathlib


PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "minisnip"

# Tensor's methods are thin forwards to the layers built on Tensor: backward() to the graph
# walk, the operators and named methods to the ops (see the end of minisnip/tensor.py).
ALLOWED_UPWARD = {("minisnip.tensor", "minisnip.autograd"), ("minisnip.tensor", "minisnip.ops")}


def _module_names() -> dict:
    """Dotted module name -> path, for every .py file of the package."""
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["minisnip"] + list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _imports(module: str, path: pathlib.Path, modules: dict) -> set:
    """The package modules that ``module`` imports, from every import statement in it."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # ``from . import ops`` imports a module; ``from .ops import add`` a name
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules
                       else source for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # ``import minisnip.ops.conv as c``
                target = target.rpartition(".")[0]
            if target.startswith("minisnip") and target != module:
                found.add(target)
    return found


def import_graph() -> dict:
    modules = _module_names()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _is_allowed(source: str, target: str) -> bool:
    return any(source == s and (target == t or target.startswith(t + "."))
               for s, t in ALLOWED_UPWARD)


def find_cycles(graph: dict) -> list:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def test_the_graph_sees_the_imports_it_should():
    """The parser itself: a relative import, a function-level import and ``from . import``."""
    graph = import_graph()
    assert "minisnip.kernels.matmul" in graph["minisnip.kernels.conv"]
    assert "minisnip.ops" in graph["minisnip.tensor"]          # the documented upward reach
    assert "minisnip.tensor" in graph["minisnip.autograd"]     # inside Function.apply
    assert "minisnip.ops.linalg" in graph["minisnip.ops.conv"]


def test_kernels_import_nothing_of_minisnip_outside_kernels():
    offenders = {module: sorted(t for t in targets if not t.startswith("minisnip.kernels"))
                 for module, targets in import_graph().items()
                 if module.startswith("minisnip.kernels")}
    offenders = {m: t for m, t in offenders.items() if t}
    assert not offenders, f"kernels must be leaves (plain functions on ndarrays): {offenders}"


def _without_allowed(graph: dict) -> dict:
    return {source: {t for t in targets if not _is_allowed(source, t)}
            for source, targets in graph.items()}


def test_no_import_cycle_but_tensors_methods_reaching_up():
    cycles = find_cycles(_without_allowed(import_graph()))
    assert not cycles, f"import cycles: {cycles}"


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = _without_allowed(import_graph())
    graph["minisnip.kernels.matmul"].add("minisnip.ops.linalg")  # as kernels/conv.py once did
    assert ["minisnip.kernels.matmul", "minisnip.ops.linalg"] in find_cycles(graph)


def test_the_paper_does_not_import_its_successors():
    """snip.py is the paper; pruners.py builds the other methods on it, never the reverse."""
    graph = import_graph()
    assert "minisnip.snip" in graph["minisnip.pruners"]
    assert "minisnip.pruners" not in graph["minisnip.snip"]
