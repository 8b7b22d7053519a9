"""The live DAG view: the graph learnt from the supervisor's events, each node coloured by its state."""

from __future__ import annotations

from typing import Any

from agentlab.events import EventKind, RoundEvent
from agentlab.steps import SubTask
from agentlab.views.dag import COLOURS, LiveDag


def Task(task_id: str, role: str = "researcher", deps: tuple[str, ...] = ()) -> SubTask:  # noqa: N802
    return SubTask(task_id, f"goal of {task_id}", role, deps)


def event(kind: EventKind, task: SubTask, **fields: Any) -> RoundEvent:
    return RoundEvent(kind, task, **fields)


def _node(svg: str, task_id: str) -> str:
    start = svg.index(f'data-id="{task_id}"')
    return svg[start : svg.index("</g>", start)]


def test_nodes_change_colour_as_events_arrive_and_a_replan_sits_beside_its_original() -> None:
    dag = LiveDag("round 1")
    a, b, c = Task("a"), Task("b"), Task("combine", "analyst", ("a", "b"))
    for task in (a, b, c):
        dag(event("planned", task, round=1))
    assert dag.counts() == {"pending": 3}
    assert set(dag.graph.edges) == {("a", "combine"), ("b", "combine")}
    dag(event("dispatched", a))
    dag(event("dispatched", b))
    assert f'fill="{COLOURS["running"]}"' in _node(dag.widget.value, "a")
    dag(event("done", a))
    dag(event("timeout", b))
    fresh = Task("b~1")
    dag(event("planned", fresh, replaces="b"))
    dag(event("hedged", fresh))
    dag(event("ignored", fresh, why="another copy finished first"))  # changes nothing
    dag(event("done", fresh))
    assert dag.states() == {"a": "done", "b": "timeout", "combine": "pending", "b~1": "done"}
    assert ("b~1", "combine") in dag.graph.edges  # the fresh copy feeds the combining step now
    svg = dag.widget.value
    assert 'data-state="timeout"' in _node(svg, "b") and f'fill="{COLOURS["timeout"]}"' in _node(svg, "b")
    assert "(hedged)" in _node(svg, "b~1") and 'stroke-dasharray="4 3"' in svg
    assert [(i, s) for _, i, s in dag.history if i == "b"] == [("b", "pending"), ("b", "running"), ("b", "timeout")]


def test_a_later_round_is_drawn_to_the_right_and_replayed_results_are_marked() -> None:
    dag = LiveDag()
    dag(event("planned", Task("a"), round=1))
    dag(event("replayed", Task("a")))
    dag(event("planned", Task("a-r2"), round=2))
    svg = dag.svg()
    assert "(replayed)" in _node(svg, "a")
    x_first = float(_node(svg, "a").split('x="')[1].split('"')[0])
    x_second = float(_node(svg, "a-r2").split('x="')[1].split('"')[0])
    assert x_second > x_first


def _size(svg: str) -> tuple[float, float]:
    tag = svg[svg.index("<svg") :]
    return float(tag.split('width="')[1].split('"')[0]), float(tag.split('height="')[1].split('"')[0])


def _x(svg: str, task_id: str) -> float:
    return float(_node(svg, task_id).split('x="')[1].split('"')[0])


def test_a_wide_plan_wraps_into_a_block_and_a_narrow_one_stays_a_column() -> None:
    narrow, wide = LiveDag(), LiveDag(max_nodes=500)
    for i in range(8):
        narrow(event("planned", Task(f"tool_{i}"), round=1))
    assert len({_x(narrow.svg(), f"tool_{i}") for i in range(8)}) == 1  # Code 40.6.2's plan: one column
    ids = [f"t{i}" for i in range(400)]
    for task_id in ids:
        wide(event("planned", Task(task_id), round=1))
    wide(event("planned", Task("combine", "analyst", tuple(ids)), round=1))
    width, height = _size(wide.svg())
    assert height < 1700 and width < 2200, (width, height)  # one column would be 400 x 48 px = 19,200 px high
    assert 0.5 < width / height < 2  # about as wide as tall
    assert _x(wide.svg(), "combine") > max(_x(wide.svg(), t) for t in ids)  # what depends on the block is right of it
