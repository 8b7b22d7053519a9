"""The offline model: a seeded, rule-based policy that answers like a model, with no network (lab 01).

policy.py     reads the conversation and decides tool calls or a final answer (knobs: q, latency, seed)
choose.py     which tool fits a goal, and its arguments filled from the tool's schema (any tool, seen or not)
answers.py    answers from what tools other than search returned (per item, summarized, quoted)
skills.py     its planning and reducing, for a supervisor's prompts (lab 03)
repair.py     a fix for a failing test, found by trying small patches under the tests (lab 03)
server.py     the policy behind a loopback OpenAI-compatible HTTP endpoint
inprocess.py  the same answers inside the calling process, under the `openai` SDK's own path
"""

__all__: list[str] = []
