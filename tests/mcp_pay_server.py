"""agentlab's `pay` tool served over MCP (stdio) against a payments API at the URL given (test_mcp_pay.py).

    python tests/mcp_pay_server.py http://127.0.0.1:PORT

The payments API outlives this server, so a test can restart the server and see whether a retried
payment is charged again.
"""

from __future__ import annotations

import sys

from agentlab.protocols.mcp_server import mcp_server, serve_stdio
from agentlab.services.api_client import ApiClient, payment_tool

if __name__ == "__main__":
    with ApiClient(sys.argv[1]) as client:
        serve_stdio(mcp_server([payment_tool(client)]))
