"""Durable execution: checkpoint every step, crash, resume without redoing finished work (lab 04).

    journal.py  the journal's record of a run's steps, keyed by what each step is; resume previews
    sqlite.py   the journal in a local SQLite file, safe across threads and processes
    run.py      the supervisor's side: replay what is recorded, record what is new

`import agentlab.durable.journal` loads neither the model stack nor Dask.
"""

__all__: list[str] = []
