"""The offline model: a seeded, rule-based policy that answers like a model, with no network (lab 01).

policy.py     reads the conversation and decides tool calls or a final answer (knobs: q, latency, seed)
skills.py     its planning and reducing, for a supervisor's prompts (lab 03)
server.py     the policy behind a loopback OpenAI-compatible HTTP endpoint
inprocess.py  the same answers inside the calling process, under the `openai` SDK's own path
"""

__all__: list[str] = []
