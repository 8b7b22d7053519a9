"""agentlab raises only its own errors (STYLE.md: one error tree, named by who is at fault).

Checked on the source's AST, over every module of the package: `raise X(...)` or `raise X` where X is a
builtin exception class (`ValueError`, `RuntimeError`, `SystemExit`, ...) or the tree's bare base
`AgentlabError` (say who is at fault: raise one of its subclasses). Re-raising (`raise`, `raise exc`) is
fine. Two kinds of raise are allowed because they are not agentlab's errors at all:

- `AttributeError` from a `__getattr__` (a module's or a class's): Python's protocol for "no such
  attribute", which `hasattr`, pickling and `from x import y` rely on;
- anything in `STANDALONE`: programs the sandbox runs with the standard library only, where agentlab
  cannot be imported (a test checks that they import none of it).
"""

from __future__ import annotations

import ast
import builtins
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

import agentlab

ROOT = Path(agentlab.__file__).parent

BUILTIN_EXCEPTIONS = frozenset(
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
)
STANDALONE = frozenset({"services/_sandbox_init.py", "grading/_learner.py"})
"""Programs run in the sandbox as they are (`python -I -S`, or sent as main.py): standard library only."""

TEMPORARY_ALLOWLIST: frozenset[tuple[str, str, str]] = frozenset()
"""(module path, function, exception) of raises still to be fixed: each entry must still match one."""


class Raise(NamedTuple):
    path: str
    line: int
    function: str
    name: str

    @property
    def key(self) -> tuple[str, str, str]:
        return self.path, self.function, self.name

    def __str__(self) -> str:
        return f"agentlab/{self.path}:{self.line} in {self.function}: raise {self.name}"


def _raised_name(node: ast.Raise) -> str | None:
    """The class a raise names, if it is a builtin exception or AgentlabError itself."""
    target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    if isinstance(target, ast.Name):
        name = target.id
    elif isinstance(target, ast.Attribute):  # builtins.ValueError, errors.AgentlabError
        name = target.attr
    else:
        return None
    return name if name in BUILTIN_EXCEPTIONS or name == "AgentlabError" else None


def raises_in(source: str, path: str) -> list[Raise]:
    """The offending raises of one module, each with the (qualified) function it is in."""
    found: list[Raise] = []

    def walk(node: ast.AST, scope: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                walk(child, (*scope, child.name))
                continue
            name = _raised_name(child) if isinstance(child, ast.Raise) else None
            protocol = name == "AttributeError" and scope[-1:] == ("__getattr__",)
            if name is not None and not protocol:
                found.append(Raise(path, child.lineno, ".".join(scope) or "<module>", name))
            walk(child, scope)

    walk(ast.parse(source), ())
    return found


def offending_raises(root: Path) -> list[Raise]:
    """Every raise of a builtin exception or of bare AgentlabError in the package at `root`."""
    found = []
    for file in sorted(root.rglob("*.py")):
        path = file.relative_to(root).as_posix()
        if path not in STANDALONE:
            found += raises_in(file.read_text(encoding="utf-8"), path)
    return found


def test_agentlab_raises_only_errors_of_its_tree() -> None:
    wrong = [r for r in offending_raises(ROOT) if r.key not in TEMPORARY_ALLOWLIST]
    assert wrong == [], "raise an agentlab.errors class instead:\n" + "\n".join(map(str, wrong))


def test_every_temporary_allowlist_entry_still_matches_a_raise() -> None:
    fixed = TEMPORARY_ALLOWLIST - {r.key for r in offending_raises(ROOT)}
    assert fixed == set(), f"fixed: remove these from TEMPORARY_ALLOWLIST: {sorted(fixed)}"


def test_the_standalone_programs_import_nothing_of_agentlab() -> None:
    for path in STANDALONE:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        imported = [n.names[0].name for n in ast.walk(tree) if isinstance(n, ast.Import)]
        imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [name for name in imported if name.split(".")[0] == "agentlab"], path


def _first_function(path: Path) -> ast.FunctionDef:
    return next(n for n in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(n, ast.FunctionDef))


def test_a_builtin_raise_injected_into_a_copy_is_reported(tmp_path: Path) -> None:
    copy = tmp_path / "agentlab"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = offending_raises(copy)
    module = copy / "memory" / "budget.py"
    function = _first_function(module)
    lines = module.read_text(encoding="utf-8").splitlines()
    first = function.body[0]
    lines.insert(first.end_lineno or first.lineno, " " * first.col_offset + 'raise ValueError("x")')
    module.write_text("\n".join(lines) + "\n", encoding="utf-8")
    added = [r for r in offending_raises(copy) if r not in before]
    assert [(r.path, r.function, r.name) for r in added] == [("memory/budget.py", function.name, "ValueError")]
    assert added[0].key not in TEMPORARY_ALLOWLIST  # so the package test would fail on it


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        ("def f():\n    raise KeyError\n", ["KeyError"]),
        ("def f():\n    raise builtins.OSError(2, 'x')\n", ["OSError"]),
        ("def f():\n    raise AgentlabError('whose fault?')\n", ["AgentlabError"]),
        ("def f():\n    raise SystemExit('bye')\n", ["SystemExit"]),
        ("class C:\n    def get(self, name):\n        raise AttributeError(name)\n", ["AttributeError"]),
        ("class C:\n    def __getattr__(self, name):\n        raise AttributeError(name)\n", []),
        ("def __getattr__(name):\n    raise AttributeError(name)\n", []),
        ("def f():\n    raise UsageError('no')\n", []),
        ("def f():\n    try:\n        g()\n    except OSError as exc:\n        raise exc\n", []),
        ("def f():\n    try:\n        g()\n    except OSError:\n        raise\n", []),
    ],
)
def test_what_the_checker_reports(source: str, reported: list[str]) -> None:
    assert [r.name for r in raises_in(source, "x.py")] == reported
