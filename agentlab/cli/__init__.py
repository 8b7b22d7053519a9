"""The `agentlab` command (README).

main.py           demo, run, fanout, runs, lab, grade, student
model_options.py  the model options every command shares, and the model they build
protocols.py      `agentlab mcp ...` and `agentlab a2a ...`
"""

__all__: list[str] = []
