"""The live progress table and the Gantt chart, fed by a real fan-out."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from distributed import Client

from agentlab.events import RoundEvent
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.supervisor import Supervisor
from agentlab.models.chat import offline_model
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
