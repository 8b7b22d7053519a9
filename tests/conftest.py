"""Shared fixtures: a tiny knowledge base, and one real process cluster per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from distributed import Client

from agentlab.agent.retrieval import Document, Index, search_tool
from agentlab.agent.tools import Tool
from agentlab.testing import ProcessCluster

TINY_DOCS = [
    Document(
        "d-1",
        "Incident INC-1001",
        "INC-1001 started on 3 March. The root cause of INC-1001 was a full disk on the "
        "Orion Gateway log volume. It lasted 42 minutes.",
    ),
    Document(
        "d-2",
        "Incident INC-1002",
        "INC-1002 hit the Kestrel Probe fleet. The root cause of INC-1002 was an expired "
        "TLS certificate. It lasted 17 minutes.",
    ),
    Document("d-3", "Refund policy", "Customers may return hardware within 30 days of delivery for a full refund."),
    Document(
        "d-4", "Orion Gateway overview", "The Orion Gateway is owned by the Edge Platform team. Its SKU is NR-1001."
    ),
]


@pytest.fixture
def tiny_index() -> Index:
    return Index(TINY_DOCS)


@pytest.fixture
def tiny_search(tiny_index: Index) -> Tool:
    return search_tool(tiny_index)


@pytest.fixture(scope="session")
def process_cluster() -> Iterator[ProcessCluster]:
    """A scheduler and two workers, each its own process on loopback (shared by the whole session)."""
    with ProcessCluster(n_workers=2, nthreads=16) as cluster:
        yield cluster


@pytest.fixture
def client(process_cluster: ProcessCluster) -> Iterator[Client]:
    with process_cluster.client() as c:
        yield c


# The suite runs on both cores (pytest-xdist, `-n 2` in pyproject.toml). A few tests take minutes; started
# last, one of them would run alone at the end while the other core idles. They go first, longest first.
LONGEST_FIRST = (
    "tests/test_durable.py::test_supervisor_killed_at_random_points_resumes_to_the_same_answer",
    "tests/grading/test_submissions.py",
    "tests/test_browser.py",
    "tests/test_notebooks.py",
    "tests/grading/test_cheats.py",
    "tests/grading/test_nbgrader.py",
    "tests/test_cli.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the rest keep their order
