"""The supervisor fan-out: planner → role executors on Dask → gather → reduce (lab 03).

plan.py        the sub-task DAG a planning step decided, with ready/running/done states
rounds.py      a round's decisions (abandon, hedge, close), pure functions of state and time
round.py       one round carried out: dispatch ready sub-tasks, stream results, handle stragglers
runners.py     what runs one sub-task on a worker: `AgentRunner` (a ReAct loop with its role's tools)
toolkit.py     each role's tools and their RPC contracts, resolved on the worker
futures.py     one Dask future per sub-task (`FuturesDispatcher`), and the dispatcher protocol
lanes.py       one lane (a Dask actor) per worker that streams many sub-tasks (`LaneDispatcher`)
supervisor.py  plan → rounds → reduce, round after round, with an honest stop reason
report.py      a fan-out's result: summary, timeline, events, speedup beside the ideal
findings.py    a shared findings board as the supervisor sees it
quietgc.py     fewer garbage collections while a wide round is in flight
"""

__all__: list[str] = []
