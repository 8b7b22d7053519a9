"""Shared fixtures: a tiny knowledge base and its search tool, independent of the shipped datasets."""

from __future__ import annotations

import pytest

from agentlab.retrieval import Document, Index, search_tool
from agentlab.tools import Tool

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
