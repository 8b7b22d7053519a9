"""The live progress table and the Gantt chart, fed by a real fan-out."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from collections.abc import Callable

from distributed import Client

from agentlab.events import RoundEvent
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.supervisor import Supervisor
from agentlab.models.chat import offline_model
from agentlab.steps import SubTask
from agentlab.testing.runners import SleepRunner
from agentlab.views.widgets import LiveProgress, critical_ids, gantt


def test_live_progress_follows_a_fan_out_and_the_gantt_marks_the_critical_path(client: Client) -> None:
    progress = LiveProgress("demo")
    snapshots: list[dict[str, int]] = []

    def watch(event: RoundEvent) -> None:
        snapshots.append(progress.counts())

    runner = SleepRunner({"a": 0.05, "b": 0.3, "c": 0.1, "combine": 0.05})
    supervisor = Supervisor(client, offline_model(), runner=runner, observers=[progress, watch], policy=FanOutPolicy())
    result = supervisor.run("Check INC-1 and INC-2 and INC-3")
    assert progress.counts() == {"done": 4}
    assert any(s.get("running", 0) >= 2 for s in snapshots)  # it showed sub-tasks running side by side
    html = progress.widget.value
    assert "tcp://127.0.0.1:" in html and "combine" in html and "elapsed" in html
    assert critical_ids(result) == {"b", "combine"}  # the slowest researcher, then the analyst
    figure = gantt(result)
    bars = figure.axes[0].patches
    assert len(bars) == len(result.to_frame())
    red = [b for b in bars if b.get_facecolor()[:3] == matplotlib.colors.to_rgb("#d62728")]
    assert len(red) == 2


def test_a_burst_of_events_too_soon_to_draw_ends_in_one_trailing_redraw() -> None:
    now = [0.0]
    owed: list[tuple[float, Callable[[], None]]] = []
    progress = LiveProgress("burst", every=0.1, clock=lambda: now[0], schedule=lambda d, f: owed.append((d, f)))
    tasks = [SubTask(f"tool_{i}", "call it", "researcher") for i in range(8)]
    progress(RoundEvent("planned", tasks[0]))
    assert "1 planned" in progress.widget.value and not owed  # the first event is drawn at once
    now[0] = 0.004
    for task in tasks[1:]:
        progress(RoundEvent("planned", task))
    for task in tasks:
        progress(RoundEvent("dispatched", task))
    assert progress.counts() == {"running": 8}
    assert "1 planned" in progress.widget.value  # throttled: the browser has not been told yet
    assert len(owed) == 1 and owed[0][0] == 0.1  # one trailing redraw for the whole burst, not one per event
    now[0] = 0.104
    owed.pop()[1]()
    assert "8 running" in progress.widget.value and "1 planned" not in progress.widget.value
    now[0] = 0.25
    progress(RoundEvent("done", tasks[0]))  # an interval has passed since that redraw: drawn at once
    assert "1 done, 7 running" in progress.widget.value and not owed


def test_without_the_trailing_redraw_the_table_would_stay_at_its_first_event() -> None:
    # the broken variant (the audit saw it in the browser): a burst is never drawn until the next late event
    now = [0.0]
    progress = LiveProgress("burst", every=0.1, clock=lambda: now[0], schedule=lambda d, f: None)
    tasks = [SubTask(f"t{i}", "call it", "researcher") for i in range(8)]
    for task in tasks:
        progress(RoundEvent("planned", task))
        progress(RoundEvent("dispatched", task))
    assert "1 planned" in progress.widget.value and progress.counts() == {"running": 8}
