# ruff: noqa: E501  (each submission is one notebook cell, kept on one line)
"""Exercise 40.6.3 submissions written from the notebook's specification (not from the instructor's cells).

`CORRECT`: ten different correct notebooks. `WRONG`: (name, the part it gets wrong, that part's cell);
the other parts come from CORRECT["plain"]. The setup cell defines SCENARIOS and C_EXAMPLE.
"""

TIMES = """
def expected_sequential_time(latencies, q):
    return sum(latencies) * (1 / q)


def expected_fanout_time(c, latencies, q):
    return (c + max(latencies)) * (1 / q)
"""
CONDITION = """
def fanout_beats_sequential(c, latencies, q):
    return c + max(latencies) < sum(latencies)


def break_even_overhead(latencies):
    return sum(latencies) - max(latencies)
"""
REGIME = """
KEEP_SEQUENTIAL = {}
for name, latencies in SCENARIOS.items():
    KEEP_SEQUENTIAL[name] = not (C_EXAMPLE < sum(latencies) - max(latencies))
"""
BASE = {"expected_times": TIMES, "condition": CONDITION, "regime": REGIME}
LITERAL = (
    'KEEP_SEQUENTIAL = {"two_lookups": True, "eight_searches": False, "one_report_four_lookups": True, '
    '"single_call": True, "twelve_summaries": False}'
)

CORRECT = {
    "plain": BASE,
    "division_and_display": {
        "expected_times": "def expected_sequential_time(latencies, q):\n    return sum(latencies) / q\n\ndef expected_fanout_time(c, latencies, q):\n    return (c + max(latencies)) / q\n\ndisplay(expected_sequential_time([1.0], 1.0))",
        "condition": "def fanout_beats_sequential(c, latencies, q):\n    return (c + max(latencies)) / q < sum(latencies) / q\n\ndef break_even_overhead(latencies):\n    return float(sum(latencies) - max(latencies))",
        "regime": LITERAL,
    },
    "uses_part_a": {
        "expected_times": TIMES,
        "condition": "def fanout_beats_sequential(c, latencies, q):\n    return expected_fanout_time(c, latencies, q) < expected_sequential_time(latencies, q)\n\ndef break_even_overhead(latencies):\n    return sum(sorted(latencies)[:-1])",
        "regime": "KEEP_SEQUENTIAL = {name: not fanout_beats_sequential(C_EXAMPLE, lat, 1.0) for name, lat in SCENARIOS.items()}",
    },
    "numpy": {
        "expected_times": "import numpy as np\n\ndef expected_sequential_time(latencies, q):\n    return float(np.sum(latencies) / q)\n\ndef expected_fanout_time(c, latencies, q):\n    return float((c + np.max(latencies)) / q)",
        "condition": "import numpy as np\n\ndef fanout_beats_sequential(c, latencies, q):\n    return np.sum(latencies) - np.max(latencies) > c\n\ndef break_even_overhead(latencies):\n    return float(np.sum(latencies) - np.max(latencies))",
        "regime": "KEEP_SEQUENTIAL = {k: bool(sum(v) - max(v) <= C_EXAMPLE) for k, v in SCENARIOS.items()}",
    },
    "rounds_times_cost": {
        "expected_times": "def expected_sequential_time(latencies, q):\n    rounds = 1 / q\n    return rounds * sum(latencies)\n\ndef expected_fanout_time(c, latencies, q):\n    rounds = 1 / q\n    return rounds * (c + max(latencies))",
        "condition": "def break_even_overhead(latencies):\n    return sum(latencies) - max(latencies)\n\ndef fanout_beats_sequential(c, latencies, q):\n    return c < break_even_overhead(latencies)",
        "regime": REGIME,
    },
    "fsum_and_magics": {
        "expected_times": "%time import math\nimport math\n\ndef expected_sequential_time(latencies, q):\n    return math.fsum(latencies) / q\n\ndef expected_fanout_time(c, latencies, q):\n    return math.fsum([c, max(latencies)]) / q",
        "condition": "%%capture\ndef fanout_beats_sequential(c, latencies, q):\n    return not (c >= sum(latencies) - max(latencies))\n\ndef break_even_overhead(latencies):\n    return sum(latencies) - max(latencies)",
        "regime": LITERAL + "\nprint(KEEP_SEQUENTIAL)",
    },
    "loop_sums": {
        "expected_times": "def expected_sequential_time(latencies, q):\n    total = 0.0\n    for l in latencies:\n        total += l\n    return total / q\n\ndef expected_fanout_time(c, latencies, q):\n    slowest = latencies[0]\n    for l in latencies:\n        slowest = l if l > slowest else slowest\n    return (c + slowest) / q",
        "condition": "def fanout_beats_sequential(c, latencies, q):\n    saving = sum(latencies) - max(latencies)\n    if c < saving:\n        return True\n    return False\n\ndef break_even_overhead(latencies):\n    rest = list(latencies)\n    rest.remove(max(rest))\n    return sum(rest)",
        "regime": REGIME,
    },
    "sorted_saving": {
        "expected_times": TIMES,
        "condition": "def break_even_overhead(latencies):\n    ordered = sorted(latencies)\n    return sum(ordered) - ordered[-1]\n\ndef fanout_beats_sequential(c, latencies, q):\n    return bool(break_even_overhead(latencies) - c > 0)",
        "regime": "KEEP_SEQUENTIAL = dict((k, sum(v) - max(v) <= C_EXAMPLE) for k, v in SCENARIOS.items())",
    },
    "typed": {
        "expected_times": "def expected_sequential_time(latencies: list[float], q: float) -> float:\n    return float(sum(latencies)) / q\n\ndef expected_fanout_time(c: float, latencies: list[float], q: float) -> float:\n    return (c + max(latencies)) / q",
        "condition": "def fanout_beats_sequential(c: float, latencies: list[float], q: float) -> bool:\n    return c + max(latencies) < sum(latencies)\n\ndef break_even_overhead(latencies: list[float]) -> float:\n    return sum(latencies) - max(latencies)",
        "regime": REGIME,
    },
    "lambdas": {
        "expected_times": "expected_sequential_time = lambda latencies, q: sum(latencies) / q\nexpected_fanout_time = lambda c, latencies, q: (c + max(latencies)) / q",
        "condition": "break_even_overhead = lambda latencies: sum(latencies) - max(latencies)\nfanout_beats_sequential = lambda c, latencies, q: c < break_even_overhead(latencies)",
        "regime": LITERAL,
    },
}

WRONG = [
    ("sequential_times_q", "expected_times", TIMES.replace("sum(latencies) * (1 / q)", "sum(latencies) * q")),
    ("overhead_paid_once", "expected_times", TIMES.replace("(c + max(latencies)) * (1 / q)", "c + max(latencies) / q")),
    (
        "fanout_pays_the_sum",
        "expected_times",
        TIMES.replace("(c + max(latencies)) * (1 / q)", "(c + sum(latencies)) / q"),
    ),
    (
        "fanout_uses_the_mean",
        "expected_times",
        TIMES.replace("(c + max(latencies)) * (1 / q)", "(c + sum(latencies) / len(latencies)) / q"),
    ),
    (
        "sequential_n_times_max",
        "expected_times",
        TIMES.replace("sum(latencies) * (1 / q)", "len(latencies) * max(latencies) / q"),
    ),
    (
        "times_fitted_to_examples",
        "expected_times",
        "def expected_sequential_time(latencies, q):\n    return 2.0 if latencies == [0.2, 0.3, 0.5] else 0.75\n\ndef expected_fanout_time(c, latencies, q):\n    return 1.2 if latencies == [0.2, 0.3, 0.5] else 0.75",
    ),
    (
        "tie_counts_as_a_win",
        "condition",
        CONDITION.replace("c + max(latencies) < sum(latencies)", "c + max(latencies) <= sum(latencies)"),
    ),
    (
        "inequality_reversed",
        "condition",
        CONDITION.replace("c + max(latencies) < sum(latencies)", "c + max(latencies) > sum(latencies)"),
    ),
    (
        "q_not_cancelled",
        "condition",
        CONDITION.replace("c + max(latencies) < sum(latencies)", "(c + max(latencies)) / q < sum(latencies)"),
    ),
    (
        "break_even_minus_min",
        "condition",
        CONDITION.replace("return sum(latencies) - max(latencies)", "return sum(latencies) - min(latencies)"),
    ),
    (
        "break_even_is_the_sum",
        "condition",
        CONDITION.replace("return sum(latencies) - max(latencies)", "return sum(latencies)"),
    ),
    (
        "returns_zero_or_one",
        "condition",
        CONDITION.replace(
            "return c + max(latencies) < sum(latencies)", "return int(c + max(latencies) < sum(latencies))"
        ),
    ),
    (
        "returns_text",
        "condition",
        CONDITION.replace(
            "return c + max(latencies) < sum(latencies)", "return str(c + max(latencies) < sum(latencies))"
        ),
    ),
    (
        "break_even_n_minus_one_max",
        "condition",
        CONDITION.replace("return sum(latencies) - max(latencies)", "return (len(latencies) - 1) * max(latencies)"),
    ),
    (
        "condition_fitted_to_examples",
        "condition",
        "def fanout_beats_sequential(c, latencies, q):\n    return len(latencies) >= 8 or (len(latencies) == 2 and c < 0.24) or (len(latencies) == 3 and c < 0.4) and c != 1.0\n\ndef break_even_overhead(latencies):\n    return sum(latencies) - max(latencies)",
    ),
    ("regime_inverted", "regime", REGIME.replace("not (C_EXAMPLE <", "(C_EXAMPLE <")),
    ("single_call_fans_out", "regime", LITERAL.replace('"single_call": True', '"single_call": False')),
    ("regime_with_its_own_overhead", "regime", REGIME.replace("C_EXAMPLE <", "0.15 <")),
    (
        "regime_as_words",
        "regime",
        "KEEP_SEQUENTIAL = {k: 'yes' if sum(v) - max(v) <= C_EXAMPLE else 'no' for k, v in SCENARIOS.items()}",
    ),
    (
        "regime_missing_a_scenario",
        "regime",
        "KEEP_SEQUENTIAL = {k: sum(v) - max(v) <= C_EXAMPLE for k, v in SCENARIOS.items() if k != 'twelve_summaries'}",
    ),
    ("regime_compares_the_sum", "regime", "KEEP_SEQUENTIAL = {k: sum(v) <= C_EXAMPLE for k, v in SCENARIOS.items()}"),
]
