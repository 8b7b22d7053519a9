"""Every package agentlab imports is one pyproject.toml declares, not one that only comes along with another.

Checked on the source's AST, over every module (function-level and type-checking imports included): each
top-level module imported that is neither the standard library's nor agentlab's must be provided
(`importlib.metadata.packages_distributions()`) by a distribution declared in `[project] dependencies`
or in an extra a user installs (`labs`, `a2a`, `local-llm`; not `dev`, which is the developers' tools).
A module that is not installed here is taken to come from the distribution of its own name.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import agentlab

ROOT = Path(agentlab.__file__).parent
PYPROJECT = ROOT.parent / "pyproject.toml"
NOT_FOR_USERS = {"dev"}


def _name(requirement: str) -> tuple[str, list[str]]:
    """`a2a-sdk[http-server]>=1.3` → ("a2a-sdk", ["http-server"]), the name normalized (PEP 503)."""
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", requirement)
    assert found is not None, requirement
    extras = [e.strip() for e in (found.group(2) or "").split(",") if e.strip()]
    return _normal(found.group(1)), extras


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(pyproject: Path) -> dict[str, set[str]]:
    """Each declared distribution → where: "core", or the extras that declare it (through `agentlab[x]` too)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project.get("optional-dependencies", {})
    own = _normal(project["name"])

    def expand(requirements: list[str], seen: frozenset[str]) -> set[str]:
        names = set()
        for requirement in requirements:
            name, wanted = _name(requirement)
            if name != own:
                names.add(name)
                continue
            for extra in set(wanted) - seen:  # agentlab[a2a]: what the a2a extra declares
                names |= expand(extras.get(extra, []), seen | {extra})
        return names

    where = {name: {"core"} for name in expand(project.get("dependencies", []), frozenset())}
    for extra, requirements in extras.items():
        if extra not in NOT_FOR_USERS:
            for name in expand(requirements, frozenset({extra})):
                where.setdefault(name, set()).add(extra)
    return where


def third_party_imports(root: Path) -> dict[str, list[str]]:
    """Each top-level module imported from outside the standard library and agentlab → where (file:line)."""
    found: dict[str, list[str]] = {}
    for file in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for top in {name.split(".")[0] for name in names}:
                if top not in sys.stdlib_module_names and top not in {"agentlab", "__future__"}:
                    found.setdefault(top, []).append(f"{file.relative_to(root.parent).as_posix()}:{node.lineno}")
    return found


def placement(root: Path, pyproject: Path) -> dict[str, set[str]]:
    """Each third-party module agentlab imports → where its distribution is declared (empty: nowhere)."""
    providers = packages_distributions()
    where = declared(pyproject)
    return {
        module: set().union(*(where.get(_normal(d), set()) for d in providers.get(module, [module])))
        for module in third_party_imports(root)
    }


def undeclared(root: Path, pyproject: Path) -> list[str]:
    imports = third_party_imports(root)
    return [f"{module} ({', '.join(imports[module])})" for module, at in placement(root, pyproject).items() if not at]


def test_every_third_party_import_is_a_declared_dependency() -> None:
    assert undeclared(ROOT, PYPROJECT) == [], "declare these in pyproject.toml"


def test_the_http_clients_are_declared_where_their_modules_need_them() -> None:
    found = placement(ROOT, PYPROJECT)
    assert "core" in found["httpx2"]  # the model clients and the API client: every install
    assert found["httpx"] >= {"a2a"} and "core" not in found["httpx"]  # only agentlab.protocols.a2a_client


def test_an_undeclared_import_injected_into_a_copy_is_reported(tmp_path: Path) -> None:
    copy = tmp_path / "agentlab"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert undeclared(copy, PYPROJECT) == []
    assert "certifi" in packages_distributions()  # installed here (httpx needs it) but declared by nobody
    with (copy / "text.py").open("a", encoding="utf-8") as module:
        module.write("\n\ndef _late() -> None:\n    import certifi\n    from not_a_declared_package import x\n")
    reported = [line.split(" ")[0] for line in undeclared(copy, PYPROJECT)]
    assert sorted(reported) == ["certifi", "not_a_declared_package"]
