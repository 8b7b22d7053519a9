"""Imports flow one way (DESIGN.md): nothing low imports anything high. Checked on the source's AST, so a
function-level import counts as much as a top-level one."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import agentlab

ROOT = Path(agentlab.__file__).parent

LAYERS: dict[str, int] = {
    # 0 values: what every layer shares, with no behaviour beyond themselves
    **dict.fromkeys(
        ["errors", "steps", "identity", "trace", "wire", "prompts", "text", "latency", "faults", "analysis"], 0
    ),
    **dict.fromkeys(["plan", "rounds", "quietgc", "blocking"], 0),
    # 1 models, tools and their data
    **dict.fromkeys(["tools", "models", "offline", "policy", "skills", "cassette", "scripted", "jsonmode"], 1),
    **dict.fromkeys(["transport", "offline_transport", "retrieval", "data", "cluster"], 1),
    # 2 tool calls as RPC, and the services they reach
    **dict.fromkeys(["rpc", "guarded", "services"], 2),
    # 3 the loop, and the executors that run it on a worker
    **dict.fromkeys(["loop", "executor"], 3),
    # 4 the journal: it needs no model stack
    **dict.fromkeys(["journal", "journal_sqlite"], 4),
    # 5 orchestration: rounds on a cluster, the supervisor, durable runs, what shows them
    **dict.fromkeys(["dispatch", "fanout", "durable", "supervisor", "seedplan", "effects", "scenarios"], 5),
    **dict.fromkeys(["widgets", "dagview", "findings"], 5),
    # 6 shared memory and protocols, built on all of the above
    **dict.fromkeys(["memory", "protocols"], 6),
    # 7 what users run: test doubles, grading, the command line
    **dict.fromkeys(["testing", "grading", "cli", "cli_model", "localllm", "worker_setup", "__main__", "__init__"], 7),
}
NAMES = ["values", "models/tools", "rpc/services", "loop", "journal", "orchestration", "memory/protocols", "top"]


def _layer(module: str) -> int | None:
    """The layer of `agentlab.x.y`: by its first component under agentlab."""
    parts = module.split(".")
    if parts[0] != "agentlab":
        return None
    return LAYERS.get(parts[1] if len(parts) > 1 else "__init__")


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        found[".".join(p for p in parts if p != "__init__") if parts[-1] == "__init__" else ".".join(parts)] = path
    return found


def _imports(module: str, path: Path) -> set[str]:
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
            if base != "agentlab":  # the package itself is lazy: `from agentlab import rpc` loads only rpc
                names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return {n for n in names if n.split(".")[0] == "agentlab"}


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in _modules() if m != "agentlab" and _layer(m) is None]
    assert unplaced == [], f"give these a layer in tests/test_layering.py: {unplaced}"


def test_imports_flow_one_way() -> None:
    wrong = []
    for module, path in sorted(_modules().items()):
        own = LAYERS["__init__"] if module == "agentlab" else _layer(module)
        for imported in sorted(_imports(module, path)):
            theirs = _layer(imported)
            if own is not None and theirs is not None and theirs > own:
                wrong.append(f"{module} ({NAMES[own]}) imports {imported} ({NAMES[theirs]})")
    assert wrong == []


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return set(done.stdout.split())


def test_the_journal_loads_no_model_stack() -> None:
    loaded = _loaded_after("import agentlab.journal, agentlab.journal_sqlite")
    assert "openai" not in loaded and "agentlab.models" not in loaded and "distributed" not in loaded


def test_the_model_layer_knows_nothing_of_the_supervisor() -> None:
    loaded = _loaded_after("import agentlab.models")
    orchestration = {m for m in loaded if m != "agentlab" and (_layer(m) or 0) >= LAYERS["loop"]}
    assert orchestration == set()
