"""Blank a function of the library for a student: its body becomes one ``raise
NotImplementedError("Task 1.2: ...")``; its signature, decorators and docstring stay.

Works on the source text, guided by Python's own parser (``ast``), so everything around the
blanked bodies is kept byte for byte, and the same source and names always give the same
bytes. A function is named by its qualified name within its module: ``unbroadcast``,
``Mul.backward``.
"""
from __future__ import annotations

import ast


class BlankingError(ValueError):
    """A named function does not exist, or has no body to blank."""


def function_nodes(tree: ast.Module) -> dict:
    """``{qualified name: FunctionDef}`` of every function and method of a module (nested
    classes included; functions inside functions are not addressable)."""
    found = {}

    def visit(body, prefix):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[prefix + node.name] = node
            elif isinstance(node, ast.ClassDef):
                visit(node.body, prefix + node.name + ".")

    visit(tree.body, "")
    return found


def body_span(node) -> tuple:
    """(first line, last line), 1-based and inclusive, of the statements after the docstring."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        raise BlankingError(f"{node.name}: nothing after the docstring to blank")
    return body[0].lineno, node.end_lineno


def blank(source: str, names: dict, path: str = "<source>") -> str:
    """``source`` with the body of every function in ``names`` (qualified name -> the message
    of its NotImplementedError) replaced by ``raise NotImplementedError(message)``."""
    tree = ast.parse(source)
    functions = function_nodes(tree)
    missing = sorted(set(names) - set(functions))
    if missing:
        raise BlankingError(f"{path}: no function {', '.join(missing)} (functions there: "
                            f"{', '.join(sorted(functions))})")
    lines = source.splitlines(keepends=True)
    spans = sorted(((body_span(functions[n]), n) for n in names), reverse=True)
    for (first, last), name in spans:   # from the bottom up, so line numbers stay valid
        node = functions[name]
        indent = lines[first - 1][:len(lines[first - 1]) - len(lines[first - 1].lstrip())]
        if first == node.lineno or not indent:   # a one-line def: "def f(x): return x"
            raise BlankingError(f"{path}: {name} has its body on the line of its def; write it "
                                f"on lines of its own to make it a task")
        lines[first - 1:last] = [f"{indent}raise NotImplementedError({names[name]!r})\n"]
    return "".join(lines)


def body_source(source: str, name: str) -> str:
    """The source lines of the body (after the docstring) of function ``name``: what a
    student tree must never contain."""
    node = function_nodes(ast.parse(source))[name]
    first, last = body_span(node)
    return "".join(source.splitlines(keepends=True)[first - 1:last])
