"""Seeing a run (labs 01-05): a live progress table, a Gantt chart, a live DAG of the plan.

widgets.py  `LiveProgress` (ipywidgets) and `gantt` (matplotlib) for a fan-out's trace
dag.py      `LiveDag`: each sub-task a node, coloured by its state as the run moves
"""

__all__: list[str] = []
