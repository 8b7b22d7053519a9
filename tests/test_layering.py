"""Imports flow one way (README, Architecture): nothing low imports anything high, and no two modules import
each other, even through `if TYPE_CHECKING:`. Checked on the source's AST, so a function-level or
type-checking import counts as much as a top-level one.

A module's layer is that of the longest listed prefix of its path: `fanout.plan` is a value (layer 0) even
though the rest of `fanout/` is orchestration.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import agentlab

ROOT = Path(agentlab.__file__).parent

LAYERS: dict[str, int] = {
    # 0 values: what every layer shares, with no behaviour beyond themselves
    **dict.fromkeys(["errors", "steps", "identity", "events", "trace", "wire", "prompts", "text", "analysis"], 0),
    **dict.fromkeys(["latency", "fanout.plan", "fanout.rounds", "fanout.quietgc", "models.blocking"], 0),
    # 1 the model family, tools and their data
    **dict.fromkeys(["models", "agent.tools", "agent.retrieval", "data", "cluster", "rpc.faults"], 1),
    # 2 tool calls as RPC, and the services they reach
    **dict.fromkeys(["rpc", "services"], 2),
    # 3 the loop, and what runs it on a worker
    **dict.fromkeys(["agent", "fanout.runners", "fanout.toolkit"], 3),
    # 4 the journal: it needs no model stack
    **dict.fromkeys(["durable.journal", "durable.sqlite"], 4),
    # 5 orchestration: rounds on a cluster, the supervisor, durable runs, what shows them
    **dict.fromkeys(["fanout", "durable", "views"], 5),
    # 6 shared memory and protocols, built on all of the above
    **dict.fromkeys(["memory", "protocols"], 6),
    # 7 what users run: the course's examples, test doubles, the simulator, grading, the command line
    **dict.fromkeys(["course", "testing", "sim", "grading", "cli", "worker_setup", "__main__", "__init__"], 7),
}
NAMES = ["values", "models/tools", "rpc/services", "loop", "journal", "orchestration", "memory/protocols", "top"]


def layer_of(module: str) -> int | None:
    """The layer of `agentlab.x.y`: that of the longest listed prefix of `x.y`."""
    parts = module.split(".")
    if parts[0] != "agentlab":
        return None
    if len(parts) == 1:
        return LAYERS["__init__"]
    for end in range(len(parts), 1, -1):
        found = LAYERS.get(".".join(parts[1:end]))
        if found is not None:
            return found
    return None


def modules(root: Path) -> dict[str, Path]:
    """Every module under the package at `root`, by dotted name."""
    found = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules `module` imports, anywhere in its source (TYPE_CHECKING blocks included)."""
    names = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base != "agentlab":  # the package itself is lazy: `from agentlab import x` loads only x
                names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return {_module_of(n, known) for n in names if n.split(".")[0] == "agentlab"} - {"", module}


def _module_of(name: str, known: set[str]) -> str:
    """`agentlab.steps.SubTask` → `agentlab.steps`: the longest prefix that is a module."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return ""


def graph(root: Path) -> nx.DiGraph:
    found = modules(root)
    edges = nx.DiGraph()
    edges.add_nodes_from(found)
    for module, path in found.items():
        edges.add_edges_from((module, imported) for imported in imports(module, path, set(found)))
    return edges


def upward(edges: nx.DiGraph) -> list[str]:
    """Imports from a lower layer of a higher one."""
    wrong = []
    for module, imported in sorted(edges.edges):
        own, theirs = layer_of(module), layer_of(imported)
        if own is not None and theirs is not None and theirs > own:
            wrong.append(f"{module} ({NAMES[own]}) imports {imported} ({NAMES[theirs]})")
    return wrong


def cycles(edges: nx.DiGraph) -> list[list[str]]:
    """Modules that import each other, however indirectly. A package's `__init__` importing its own
    modules is not a cycle unless one of them imports the package back."""
    return [sorted(c) for c in nx.strongly_connected_components(edges) if len(c) > 1]


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in modules(ROOT) if layer_of(m) is None]
    assert unplaced == [], f"give these a layer in tests/test_layering.py: {unplaced}"


def test_imports_flow_one_way() -> None:
    assert upward(graph(ROOT)) == []


def test_no_module_imports_itself_back() -> None:
    assert cycles(graph(ROOT)) == []


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "agentlab"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_cycle_inside_a_layer_is_caught(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    assert cycles(graph(copy)) == []
    with (copy / "fanout" / "supervisor.py").open("a") as f:  # report.py is imported by supervisor.py
        f.write("\nfrom agentlab.fanout.round import run_round\n")
    with (copy / "fanout" / "round.py").open("a") as f:
        f.write("\ndef _late() -> None:\n    from agentlab.fanout.supervisor import Supervisor\n")
    assert any({"agentlab.fanout.round", "agentlab.fanout.supervisor"} <= set(c) for c in cycles(graph(copy)))
    assert upward(graph(copy)) == []  # same layer: only the cycle check sees it


def test_a_cycle_through_type_checking_is_caught(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    steps = copy / "steps.py"
    steps.write_text(
        steps.read_text().replace(
            "if TYPE_CHECKING:\n", "if TYPE_CHECKING:\n    from agentlab.identity import StepId\n", 1
        )
    )
    assert any({"agentlab.identity", "agentlab.steps"} <= set(c) for c in cycles(graph(copy)))


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    with (copy / "durable" / "journal.py").open("a") as f:
        f.write("\nfrom agentlab.fanout.supervisor import Supervisor\n")
    wrong = upward(graph(copy))
    assert wrong == ["agentlab.durable.journal (journal) imports agentlab.fanout.supervisor (orchestration)"]


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return set(done.stdout.split())


def test_the_durability_package_loads_no_model_stack_and_no_dask() -> None:
    loaded = _loaded_after("import agentlab.durable.journal, agentlab.durable.sqlite")
    assert not {"openai", "distributed", "agentlab.models"} & loaded


@pytest.mark.parametrize("module", ["agentlab.models.chat", "agentlab.models.offline.server"])
def test_the_model_family_loads_nothing_at_or_above_the_loop(module: str) -> None:
    loaded = _loaded_after(f"import {module}")
    above = {m for m in loaded if m.startswith("agentlab.") and (layer_of(m) or 0) >= LAYERS["agent"]}
    assert above == set()
