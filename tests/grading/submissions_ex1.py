# ruff: noqa: E501  (each submission is one notebook cell, kept on one line)
"""Exercise 40.6.1 submissions written from the notebook's specification (not from the instructor's cells).

`CORRECT`: ten different correct notebooks, each a full set of answer cells. `WRONG`: subtly wrong
answers, each (name, the part it gets wrong, that part's cell); the other parts come from CORRECT[0].
"""

CLASSIFY = 'CLASSIFICATION = {"briefs": "fan-out", "debug": "sequential", "prices": "fan-out"}'
ESTIMATES = 'P_ESTIMATES = {"briefs": 0.85, "debug": 0.05, "prices": 0.95}'
CEILING = """
def speedup_ceiling(p: float) -> float:
    if p == 1:
        return math.inf
    return 1 / (1 - p)

MOST_PARALLEL = "prices"
CEILING = speedup_ceiling(P_ESTIMATES[MOST_PARALLEL])
FINITE_BECAUSE = "spine"
"""
FITTED = """
def fitted_p(result, workers: int) -> float:
    speedup = result.sequential / result.wall
    p = (1 - 1 / speedup) / (1 - 1 / workers)
    return min(1.0, max(0.0, p))
"""


def _ceiling(function: str, extra: str = "") -> str:
    return f"{function}\n{extra}\nMOST_PARALLEL = 'prices'\nCEILING = speedup_ceiling(P_ESTIMATES['prices'])\nFINITE_BECAUSE = 'spine'\n"


BASE = {"classify": CLASSIFY, "p_estimates": ESTIMATES, "ceiling": CEILING, "fitted": FITTED}

CORRECT = {
    "plain": BASE,
    "dict_call_and_display": {
        "classify": 'CLASSIFICATION = dict(briefs="fan-out", debug="sequential", prices="fan-out")\ndisplay(CLASSIFICATION)',
        "p_estimates": "P_ESTIMATES = dict(briefs=0.8, debug=0.1, prices=0.9)\nP_ESTIMATES",
        "ceiling": _ceiling("def speedup_ceiling(p):\n    return float('inf') if p >= 1 else 1.0 / (1.0 - p)"),
        "fitted": "def fitted_p(result, workers):\n    s = result.sequential / result.wall\n    p = (s - 1) * workers / (s * (workers - 1))\n    return max(0.0, min(1.0, p))",
    },
    "loops_and_try": {
        "classify": 'CLASSIFICATION = {}\nfor goal in ("briefs", "prices"):\n    CLASSIFICATION[goal] = "fan-out"\nCLASSIFICATION["debug"] = "sequential"',
        "p_estimates": 'P_ESTIMATES = {"briefs": 0.72, "debug": 0.0, "prices": 0.98}',
        "ceiling": _ceiling(
            "def speedup_ceiling(p):\n    try:\n        return 1 / (1 - p)\n    except ZeroDivisionError:\n        return math.inf"
        ),
        "fitted": "def fitted_p(result, workers):\n    p = (1 - result.wall / result.sequential) / (1 - 1 / workers)\n    if p < 0:\n        return 0.0\n    if p > 1:\n        return 1.0\n    return p",
    },
    "numpy": {
        "classify": 'import numpy as np\nCLASSIFICATION = {k: str(v) for k, v in zip(["briefs", "debug", "prices"], np.array(["fan-out", "sequential", "fan-out"]))}',
        "p_estimates": 'import numpy as np\nP_ESTIMATES = {"briefs": np.float64(0.85), "debug": np.float64(0.05), "prices": np.float64(0.95)}',
        "ceiling": _ceiling(
            "import numpy as np\n\ndef speedup_ceiling(p):\n    with np.errstate(divide='ignore'):\n        return np.float64(1.0) / np.float64(1.0 - p)"
        ),
        "fitted": "import numpy as np\n\ndef fitted_p(result, workers):\n    s = result.sequential / result.wall\n    return float(np.clip((1 - 1 / s) / (1 - 1 / workers), 0, 1))",
    },
    "magics_and_sorted_clip": {
        "classify": '%time CLASSIFICATION = {"prices": "fan-out", "briefs": "fan-out", "debug": "sequential"}',
        "p_estimates": '%%time\nP_ESTIMATES = {"debug": 0.15, "briefs": 0.75, "prices": 0.9}',
        "ceiling": _ceiling(
            "def speedup_ceiling(p):\n    sequential = 1 - p\n    return math.inf if sequential == 0 else 1 / sequential"
        ),
        "fitted": "def fitted_p(result, workers):\n    s = result.sequential / result.wall\n    return sorted([0.0, (1 - 1 / s) / (1 - 1 / workers), 1.0])[1]",
    },
    "helper_inside": {
        "classify": 'KINDS = ("fan-out", "sequential")\nCLASSIFICATION = {"briefs": KINDS[0], "debug": KINDS[1], "prices": KINDS[0]}',
        "p_estimates": 'P_ESTIMATES = {"briefs": round(12 / 14, 2), "debug": 0.05, "prices": round(40 / 42, 2)}',
        "ceiling": _ceiling(
            "def speedup_ceiling(p):\n    def amdahl(w):\n        return 1 / ((1 - p) + p / w)\n    return math.inf if p == 1 else 1 / (1 - p)"
        ),
        "fitted": "def fitted_p(result, workers: int) -> float:\n    def clip(x):\n        return min(max(x, 0.0), 1.0)\n    return clip((1 - result.wall / result.sequential) * workers / (workers - 1))",
    },
    "most_parallel_by_max": {
        "classify": CLASSIFY,
        "p_estimates": 'P_ESTIMATES = {"briefs": 0.9, "debug": 0.2, "prices": 0.9}',
        "ceiling": "def speedup_ceiling(p):\n    return math.inf if p == 1.0 else 1.0 / (1.0 - p)\n\nMOST_PARALLEL = 'prices'\nCEILING = speedup_ceiling(P_ESTIMATES[MOST_PARALLEL])\nFINITE_BECAUSE = 'spine'",
        "fitted": FITTED,
    },
    "fractions": {
        "classify": CLASSIFY,
        "p_estimates": ESTIMATES,
        "ceiling": _ceiling(
            "from fractions import Fraction\n\ndef speedup_ceiling(p):\n    if p == 1:\n        return math.inf\n    return float(1 / (1 - Fraction(p)))"
        ),
        "fitted": "def fitted_p(result, workers):\n    s = result.sequential / result.wall\n    p = (1.0 - 1.0 / s) / (1.0 - 1.0 / workers)\n    return 0.0 if p <= 0 else (1.0 if p >= 1 else p)",
    },
    "ceiling_literal_and_int_clip": {
        "classify": CLASSIFY,
        "p_estimates": ESTIMATES,
        "ceiling": "def speedup_ceiling(p):\n    return math.inf if p == 1 else 1 / (1 - p)\n\nMOST_PARALLEL = 'prices'\nCEILING = 20.0\nFINITE_BECAUSE = 'spine'",
        "fitted": "def fitted_p(result, workers):\n    s = result.sequential / result.wall\n    p = (1 - 1 / s) / (1 - 1 / workers)\n    return max(0, min(1, p))",
    },
    "lambda_style": {
        "classify": CLASSIFY + "\nprint(CLASSIFICATION)",
        "p_estimates": ESTIMATES,
        "ceiling": _ceiling("speedup_ceiling = lambda p: math.inf if p == 1 else 1 / (1 - p)"),
        "fitted": "fitted_p = lambda result, workers: min(1.0, max(0.0, (1 - result.wall / result.sequential) / (1 - 1 / workers)))",
    },
}

_VISIBLE_CEILINGS = "{0.0: 1.0, 0.5: 2.0, 0.85: 1 / 0.15, 0.9: 10.0, 0.25: 4 / 3, 0.95: 20.0, 1.0: math.inf}"

WRONG = [
    ("debug_as_fan_out", "classify", 'CLASSIFICATION = {"briefs": "fan-out", "debug": "fan-out", "prices": "fan-out"}'),
    (
        "briefs_as_sequential",
        "classify",
        'CLASSIFICATION = {"briefs": "sequential", "debug": "sequential", "prices": "fan-out"}',
    ),
    ("misspelled_kind", "classify", 'CLASSIFICATION = {"briefs": "fanout", "debug": "sequential", "prices": "fanout"}'),
    ("missing_goal", "classify", 'CLASSIFICATION = {"briefs": "fan-out", "debug": "sequential"}'),
    ("prices_fully_parallel", "p_estimates", 'P_ESTIMATES = {"briefs": 0.85, "debug": 0.05, "prices": 1.0}'),
    ("debug_too_parallel", "p_estimates", 'P_ESTIMATES = {"briefs": 0.85, "debug": 0.3, "prices": 0.95}'),
    ("briefs_above_prices", "p_estimates", 'P_ESTIMATES = {"briefs": 0.95, "debug": 0.05, "prices": 0.85}'),
    ("percentages", "p_estimates", 'P_ESTIMATES = {"briefs": 85, "debug": 5, "prices": 95}'),
    ("negative_debug_estimate", "p_estimates", 'P_ESTIMATES = {"briefs": 0.85, "debug": -0.05, "prices": 0.95}'),
    ("ceiling_divides_by_zero", "ceiling", _ceiling("def speedup_ceiling(p):\n    return 1 / (1 - p)")),
    ("ceiling_one_over_p", "ceiling", _ceiling("def speedup_ceiling(p):\n    return math.inf if p == 0 else 1 / p")),
    ("ceiling_none_at_one", "ceiling", _ceiling("def speedup_ceiling(p):\n    if p < 1:\n        return 1 / (1 - p)")),
    (
        "ceiling_fitted_to_examples",
        "ceiling",
        _ceiling(f"def speedup_ceiling(p):\n    return {_VISIBLE_CEILINGS}.get(p, 1.0)"),
    ),
    (
        "ceiling_amdahl_at_64",
        "ceiling",
        _ceiling("def speedup_ceiling(p):\n    return math.inf if p == 1 else 1 / ((1 - p) + p / 64)"),
    ),
    (
        "most_parallel_briefs",
        "ceiling",
        CEILING.replace('MOST_PARALLEL = "prices"', 'MOST_PARALLEL = "briefs"').replace(
            "P_ESTIMATES[MOST_PARALLEL]", "P_ESTIMATES['prices']"
        ),
    ),
    ("finite_because_workers", "ceiling", CEILING.replace('"spine"', '"workers"')),
    ("ceiling_of_the_wrong_goal", "ceiling", CEILING.replace("P_ESTIMATES[MOST_PARALLEL]", "P_ESTIMATES['briefs']")),
    (
        "fit_without_upper_clip",
        "fitted",
        "def fitted_p(result, workers):\n    s = result.sequential / result.wall\n    return max(0.0, (1 - 1 / s) / (1 - 1 / workers))",
    ),
    (
        "fit_without_lower_clip",
        "fitted",
        "def fitted_p(result, workers):\n    s = result.sequential / result.wall\n    return min(1.0, (1 - 1 / s) / (1 - 1 / workers))",
    ),
    (
        "fit_speedup_upside_down",
        "fitted",
        "def fitted_p(result, workers):\n    s = result.wall / result.sequential\n    return min(1.0, max(0.0, (1 - 1 / s) / (1 - 1 / workers)))",
    ),
    (
        "fit_ignores_workers",
        "fitted",
        "def fitted_p(result, workers):\n    s = result.sequential / result.wall\n    return min(1.0, max(0.0, 1 - 1 / s))",
    ),
    (
        "fit_rounded",
        "fitted",
        "def fitted_p(result, workers):\n    s = result.sequential / result.wall\n    return round(min(1.0, max(0.0, (1 - 1 / s) / (1 - 1 / workers))), 2)",
    ),
    (
        "fit_fitted_to_examples",
        "fitted",
        "def fitted_p(result, workers):\n    return {(4.0, 1.0, 64): 0.7619047619047619, (8.0, 1.0, 8): 1.0, (10.0, 1.0, 8): 1.0}.get((result.sequential, result.wall, workers), 0.0)",
    ),
]
