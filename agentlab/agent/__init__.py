"""The agent: the ReAct loop and the tools it calls (lab 01).

    loop.py       reason → act → observe until a final answer, a give-up, or the turn budget (Figure 40.6.1)
    tools.py      a typed Python function the model can call; its JSON schema from type hints and docstring
    retrieval.py  a BM25 index over the knowledge base and the `search_kb` tool (labs 01, 02)

Tool calls here are plain calls; lab 02 puts each behind an RPC contract (`agentlab.rpc`).
"""

__all__: list[str] = []
