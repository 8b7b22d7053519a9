"""The README's Python examples run as written (in one script, as a learner would paste them)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

README = Path(__file__).parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_the_readme_has_python_examples() -> None:
    assert len(_python_blocks()) >= 3


def test_the_readme_python_examples_run(tmp_path: Path, process_cluster: Any) -> None:
    # one script, guarded as the README says scripts with a cluster must be; connect() attaches to the
    # test cluster through DASK_SCHEDULER_ADDRESS instead of starting its own
    body = "\n".join(_python_blocks())
    script = tmp_path / "readme_examples.py"
    script.write_text('if __name__ == "__main__":\n' + textwrap.indent(body, "    "), encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLAB_", "OPENAI_"))}
    env = {**clean, "DASK_SCHEDULER_ADDRESS": process_cluster.address, "AGENTLAB_JOURNAL": str(tmp_path / "j.sqlite")}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "Traceback" not in done.stderr
