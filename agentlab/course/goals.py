"""The course's goals, run for real: the price check, the twelve briefs and the debugging chain (lab 03).

Exercise 40.6.1 names three goals; `datasets/` ships everything they need, with ground truth. `workspace()`
gives `agentlab run` (and the labs) what answering them takes, beside the knowledge base:

- the live price API (`agentlab.services.api`) started on loopback for the run, with a rate limit and
  some 429s and 503s, and `get_price` under the external-API contract (`PRICE_POLICY`: timeout, retries
  that honour Retry-After, a client-side rate limit, a breaker);
- `read_document` over the twelve uploaded briefs (its `name` an enum of them);
- `read_file` and `run_tests` over the failing-test workspace (`agentlab.course.debugging`);
- the planning context (`agentlab.prompts.collections_block`): the tools, and the collections a plan may
  fan out over — the catalogue's products with their listed prices and the rule for "mispriced", and
  the briefs.

Nothing here knows the goals' sentences: the model plans from the goal and this context, and the checks
(`check_prices`, `check_brief`, `check_fix`) compare an answer with the dataset's ground truth.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agentlab.agent.tools import Tool
from agentlab.course.catalog import Catalog, load_catalog
from agentlab.course.debugging import choice_tool, debug_tools, scenario
from agentlab.data import data_dir, read_json
from agentlab.fanout.toolkit import DEFAULT_POLICIES, Toolkit
from agentlab.prompts import Collection, collections_block
from agentlab.rpc import contract as rpc
from agentlab.rpc.faults import FaultPlan
from agentlab.services.api import ApiService
from agentlab.services.api_client import ApiClient, price_tool

__all__ = ["GOALS", "PRICE_POLICY", "Workspace", "check_brief", "check_fix", "check_prices", "workspace"]

GOALS = {
    "prices": "For each of our forty product pages, fetch its current price from the live API and flag mispricings",
    "briefs": "Summarize these twelve uploaded PDFs into one brief",
    "debug": "Debug this failing test by reading the stack trace, then the implicated file, then proposing a fix",
}
"""Exercise 40.6.1's three goals as a learner would type them (the README lists them with their checks)."""

PRICE_POLICY = rpc.ToolPolicy(
    timeout=5.0,
    retry=rpc.RetryPolicy(attempts=6, base=0.02, cap=0.5),
    breaker=rpc.BreakerPolicy(failures=20, reset_after=5.0),
    rate_limit=rpc.RateLimit(per_second=500.0, burst=50),
    service="price-api",
)
"""The price API's contract on each worker: a read, so retried (429s after their Retry-After), rate limited."""


@dataclass(frozen=True)
class Workspace:
    """What a run of the course's goals works with: the executors' toolkit and the planning context."""

    toolkit: Toolkit
    context: str
    catalog: Catalog
    api: ApiService


@functools.cache
def _briefs() -> dict[str, str]:
    root = data_dir() / "briefs"
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(root.glob("doc*.md"))}


def _title(text: str) -> str:
    return text.splitlines()[0].lstrip("# ").strip() if text else ""


def document_tool() -> Tool:
    """`read_document(name)`: one of the uploaded briefs in full; `name` is an enum of them."""
    docs = _briefs()

    def read_document(name: str) -> str:
        return docs[name]

    return choice_tool(
        "read_document",
        "Read one of the uploaded documents (the quarterly business reviews) in full.",
        read_document,
        ("name", tuple(docs), "the document's file name"),
    )


def _collections(catalog: Catalog) -> list[Collection]:
    products = Collection(
        "products",
        "our product pages, each with its listed price; the live price API gives each product's current price; "
        f"a product is mispriced when its listed and live prices differ by more than {catalog.threshold_pct:g}% "
        "of the live price",
        tuple(f"{p['sku']} | {p['name']} | listed_price {p['listed_price']}" for p in catalog.products),
    )
    docs = _briefs()
    briefs = Collection(
        "briefs",
        f"the {len(docs)} uploaded documents (quarterly business reviews) to read and summarize into one brief",
        tuple(f"{name} | {_title(text)}" for name, text in docs.items()),
    )
    return [products, briefs]


@contextlib.contextmanager
def workspace(catalog_dir: str | Path | None = None, seed: int = 7) -> Iterator[Workspace]:
    """Start the live price API for `catalog_dir` (default: the shipped forty) and yield the workspace;
    the API stops when the block ends."""
    catalog = load_catalog(catalog_dir)
    faults = FaultPlan(seed=seed, throttle_rate=0.03, error_rate=0.03, retry_after=0.05)
    with ApiService(catalog.live, faults=faults, rate_limit=rpc.RateLimit(per_second=2000.0, burst=200)) as api:
        tools = [price_tool(ApiClient(api.base_url, timeout=5.0)), document_tool(), *debug_tools()]
        policies = {"get_price": PRICE_POLICY, "run_tests": DEFAULT_POLICIES["run_python"]}
        # the analyst combines what it is given: no tools (as in the built-in toolkit)
        toolkit = Toolkit(
            extra=tuple(tools), extra_roles=frozenset({"researcher", "coder", "critic"}), policies=policies
        )
        described = [(t.name, t.description) for t in [*tools, *Toolkit().tools_for("researcher")]]
        yield Workspace(toolkit, collections_block(described, _collections(catalog)), catalog, api)


_SKU = re.compile(r"\bNR-\d+\b")


def check_prices(answer: str, catalog: Catalog) -> tuple[bool, str]:
    """Exactly the catalogue's mispriced SKUs named in the answer: (ok, what differs)."""
    named, truth = set(_SKU.findall(answer)), set(catalog.mispriced)
    missing, extra = sorted(truth - named), sorted(named - truth)
    ok = not missing and not extra
    return ok, f"{len(truth & named)}/{len(truth)} mispriced SKUs flagged" + (
        "" if ok else f"; missing {missing[:10]}, not mispriced {extra[:10]}"
    )


def check_brief(answer: str) -> tuple[bool, str]:
    """Every key phrase of `briefs/key_points.json` in the brief, verbatim: (ok, what is missing)."""
    phrases = [p for ps in read_json("briefs/key_points.json").values() for p in ps]
    missing = [p for p in phrases if p not in answer]
    return not missing, f"{len(phrases) - len(missing)}/{len(phrases)} key phrases" + (
        f"; missing {json.dumps(missing[:5])}" if missing else ""
    )


def check_fix(answer: str) -> tuple[bool, str]:
    """The expected fix (file, line, the `<=` comparison) stated, and the tests passing after it."""
    truth = scenario()
    line = truth["implicated_line"]
    states = truth["implicated_file"] in answer and f"line {line}" in answer and "<=" in answer
    passes = re.search(r"after it: \d+ passed\b(?!, \d+ failed)", answer) is not None
    return states and passes, f"fix at {truth['implicated_file']} line {line}: " + (
        "stated, tests pass after it" if states and passes else "not found in the answer"
    )
