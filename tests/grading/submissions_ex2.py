# ruff: noqa: E501  (each submission is one notebook cell, kept on one line)
"""Exercise 40.6.2 submissions written from the notebook's specification (not from the instructor's cells).

`CORRECT`: twelve different correct notebooks (two of them take the readings the course's wording also
supports: a straggler answered by a hedge, and a straggler that is retried taking 11 times its latency). `WRONG`: (name, the part it gets wrong, that part's cell);
the other parts come from CORRECT["plain"].
"""

PATH = """
def parallel_critical_path(latencies, straggler_index, retry_index):
    longest = 0.0
    for i, latency in enumerate(latencies):
        path = latency
        if i == straggler_index:
            path *= 10
        if i == retry_index:
            path *= 2
        longest = max(longest, path)
    return longest
"""
WORST = """
def worst_case_path(latencies, straggler_index, retry_index, timeout):
    longest = 0.0
    for i, latency in enumerate(latencies):
        path = latency * (10 if i == straggler_index else 1) * (2 if i == retry_index else 1)
        if path > timeout:
            path = timeout + latency
        longest = max(longest, path)
    return longest
"""
ENGINE = 'ENGINE_FEATURES = {"straggler": "wait_all", "retry": "retry_policy", "timeout": "subtask_timeout"}'
BASE = {"critical_path": PATH, "timeout": WORST, "engine": ENGINE}

CORRECT = {
    "plain": BASE,
    "comprehensions_and_display": {
        "critical_path": "def parallel_critical_path(latencies, straggler_index, retry_index):\n    factors = [(10 if i == straggler_index else 1) * (2 if i == retry_index else 1) for i in range(len(latencies))]\n    return max(f * l for f, l in zip(factors, latencies))",
        "timeout": "def worst_case_path(latencies, straggler_index, retry_index, timeout):\n    def path(i, l):\n        return l * (10 if i == straggler_index else 1) * (2 if i == retry_index else 1)\n    return max(path(i, l) if path(i, l) <= timeout else timeout + l for i, l in enumerate(latencies))",
        "engine": ENGINE + "\ndisplay(ENGINE_FEATURES)",
    },
    "copy_then_scale": {
        "critical_path": "import copy\n\ndef parallel_critical_path(latencies, straggler_index, retry_index):\n    paths = copy.copy(latencies)\n    paths[straggler_index] = paths[straggler_index] * 10\n    paths[retry_index] = paths[retry_index] * 2\n    return max(paths)",
        "timeout": "def worst_case_path(latencies, straggler_index, retry_index, timeout):\n    paths = list(latencies)\n    paths[straggler_index] *= 10\n    paths[retry_index] *= 2\n    return max(p if p <= timeout else timeout + l for p, l in zip(paths, latencies))",
        "engine": 'ENGINE_FEATURES = dict(straggler="wait_all", retry="retry_policy", timeout="subtask_timeout")',
    },
    "numpy": {
        "critical_path": "import numpy as np\n\ndef parallel_critical_path(latencies, straggler_index, retry_index):\n    paths = np.array(latencies, dtype=float)\n    paths[straggler_index] *= 10\n    paths[retry_index] *= 2\n    return float(paths.max())",
        "timeout": "import numpy as np\n\ndef worst_case_path(latencies, straggler_index, retry_index, timeout):\n    base = np.array(latencies, dtype=float)\n    paths = base.copy()\n    paths[straggler_index] *= 10\n    paths[retry_index] *= 2\n    return float(np.where(paths <= timeout, paths, timeout + base).max())",
        "engine": ENGINE,
    },
    "sorted_and_keyword_timeout": {
        "critical_path": "def parallel_critical_path(latencies, straggler_index, retry_index):\n    return sorted(l * (10 if i == straggler_index else 1) * (2 if i == retry_index else 1) for i, l in enumerate(latencies))[-1]",
        "timeout": "def worst_case_path(latencies: list[float], straggler_index: int, retry_index: int, timeout: float) -> float:\n    ends = []\n    for i, l in enumerate(latencies):\n        p = l * 10 if i == straggler_index else l\n        p = p * 2 if i == retry_index else p\n        ends.append(timeout + l if p > timeout else p)\n    return max(ends)",
        "engine": ENGINE,
    },
    "factor_dict": {
        "critical_path": "def parallel_critical_path(latencies, straggler_index, retry_index):\n    factor = {}\n    factor[straggler_index] = factor.get(straggler_index, 1) * 10\n    factor[retry_index] = factor.get(retry_index, 1) * 2\n    return max(l * factor.get(i, 1) for i, l in enumerate(latencies))",
        "timeout": "def worst_case_path(latencies, straggler_index, retry_index, timeout):\n    worst = 0\n    for i, l in enumerate(latencies):\n        p = l * (10 if i == straggler_index else 1) * (2 if i == retry_index else 1)\n        worst = max(worst, min(p, timeout) + (l if p > timeout else 0))\n    return worst",
        "engine": ENGINE,
    },
    "magics": {
        "critical_path": "%load_ext autoreload\n" + PATH,
        "timeout": "%%time\n" + WORST,
        "engine": "!echo mapping\n" + ENGINE,
    },
    "reuses_part_a": {
        "critical_path": PATH,
        "timeout": "def worst_case_path(latencies, straggler_index, retry_index, timeout):\n    out = []\n    for i, l in enumerate(latencies):\n        alone = parallel_critical_path([l, 0.0], 0 if i == straggler_index else 1, 0 if i == retry_index else 1)\n        out.append(alone if alone <= timeout else timeout + l)\n    return max(out)",
        "engine": ENGINE,
    },
    "while_loops": {
        "critical_path": "def parallel_critical_path(latencies, straggler_index, retry_index):\n    i, best = 0, float('-inf')\n    while i < len(latencies):\n        p = latencies[i] * (20 if i == straggler_index == retry_index else 10 if i == straggler_index else 2 if i == retry_index else 1)\n        best = p if p > best else best\n        i += 1\n    return best",
        "timeout": "def worst_case_path(latencies, straggler_index, retry_index, timeout):\n    abandoned = lambda p, l: timeout + l if p > timeout else p\n    return max(abandoned(l * (10 if i == straggler_index else 1) * (2 if i == retry_index else 1), l) for i, l in enumerate(latencies))",
        "engine": 'ENGINE_FEATURES = {}\nENGINE_FEATURES["straggler"] = "wait_all"\nENGINE_FEATURES["retry"] = "retry_policy"\nENGINE_FEATURES["timeout"] = "subtask_timeout"',
    },
    "straggler_hedged": {  # the course's Fun Note: "bound its wait, speculate a replacement"
        "critical_path": PATH,
        "timeout": WORST,
        "engine": ENGINE.replace('"straggler": "wait_all"', '"straggler": "hedge_after"'),
    },
    "eleven_times_when_both": {  # the course's reading: the retry adds the sub-task's (normal) latency once more
        "critical_path": "def parallel_critical_path(latencies, straggler_index, retry_index):\n    paths = list(latencies)\n    paths[straggler_index] *= 10\n    paths[retry_index] += latencies[retry_index]\n    return max(paths)",
        "timeout": "def worst_case_path(latencies, straggler_index, retry_index, timeout):\n    worst = 0.0\n    for i, l in enumerate(latencies):\n        path = l * (10 if i == straggler_index else 1) + (l if i == retry_index else 0)\n        worst = max(worst, path if path <= timeout else timeout + l)\n    return worst",
        "engine": ENGINE,
    },
    "helper_functions": {
        "critical_path": "def _path(latency, slow, retried):\n    return latency * (10 if slow else 1) * (2 if retried else 1)\n\ndef parallel_critical_path(latencies, straggler_index, retry_index):\n    return max(_path(l, i == straggler_index, i == retry_index) for i, l in enumerate(latencies))",
        "timeout": "def _one(latency, slow, retried, timeout):\n    path = latency * (10 if slow else 1) * (2 if retried else 1)\n    return path if path <= timeout else timeout + latency\n\ndef worst_case_path(latencies, straggler_index, retry_index, timeout):\n    return max(_one(l, i == straggler_index, i == retry_index, timeout) for i, l in enumerate(latencies))",
        "engine": ENGINE,
    },
}

_FIT = "{(5, 2): 1.41, (3, 2): 1.0, (0, 1): 1.0}"

WRONG = [
    (
        "same_index_straggler_only",
        "critical_path",
        "def parallel_critical_path(latencies, straggler_index, retry_index):\n    paths = list(latencies)\n    if straggler_index == retry_index:\n        paths[straggler_index] *= 10\n    else:\n        paths[straggler_index] *= 10\n        paths[retry_index] *= 2\n    return max(paths)",
    ),
    (
        "changes_the_list",
        "critical_path",
        "def parallel_critical_path(latencies, straggler_index, retry_index):\n    latencies[straggler_index] *= 10\n    latencies[retry_index] *= 2\n    return max(latencies)",
    ),
    (
        "three_attempts",
        "critical_path",
        "def parallel_critical_path(latencies, straggler_index, retry_index):\n    paths = list(latencies)\n    paths[straggler_index] *= 10\n    paths[retry_index] *= 3\n    return max(paths)",
    ),
    (
        "straggler_eleven_times",
        "critical_path",
        "def parallel_critical_path(latencies, straggler_index, retry_index):\n    paths = list(latencies)\n    paths[straggler_index] += 10 * paths[straggler_index]\n    paths[retry_index] *= 2\n    return max(paths)",
    ),
    (
        "sum_not_max",
        "critical_path",
        "def parallel_critical_path(latencies, straggler_index, retry_index):\n    paths = list(latencies)\n    paths[straggler_index] *= 10\n    paths[retry_index] *= 2\n    return sum(paths)",
    ),
    (
        "ignores_retry",
        "critical_path",
        "def parallel_critical_path(latencies, straggler_index, retry_index):\n    paths = list(latencies)\n    paths[straggler_index] *= 10\n    return max(paths)",
    ),
    (
        "same_index_adds_factors",
        "critical_path",
        "def parallel_critical_path(latencies, straggler_index, retry_index):\n    return max(l * ((10 if i == straggler_index else 0) + (2 if i == retry_index else 0) or 1) for i, l in enumerate(latencies))",
    ),
    (
        "path_fitted_to_examples",
        "critical_path",
        f"def parallel_critical_path(latencies, straggler_index, retry_index):\n    known = {_FIT}\n    if len(latencies) == 4:\n        return 1.0\n    if len(latencies) == 1:\n        return latencies[0] * 20\n    if latencies == [1, 2]:\n        return 10.0\n    if latencies == [0.5, 0.125, 0.75]:\n        return 2.5\n    return known.get((straggler_index, retry_index), max(latencies))",
    ),
    ("abandons_at_equal", "timeout", WORST.replace("if path > timeout:", "if path >= timeout:")),
    (
        "fresh_copy_straggles_again",
        "timeout",
        "def worst_case_path(latencies, straggler_index, retry_index, timeout):\n    worst = 0.0\n    for i, l in enumerate(latencies):\n        path = l * (10 if i == straggler_index else 1) * (2 if i == retry_index else 1)\n        worst = max(worst, path if path <= timeout else timeout + path)\n    return worst",
    ),
    (
        "only_the_straggler_times_out",
        "timeout",
        "def worst_case_path(latencies, straggler_index, retry_index, timeout):\n    worst = 0.0\n    for i, l in enumerate(latencies):\n        path = l * (10 if i == straggler_index else 1) * (2 if i == retry_index else 1)\n        if i == straggler_index and path > timeout:\n            path = timeout + l\n        worst = max(worst, path)\n    return worst",
    ),
    ("abandoned_costs_only_the_timeout", "timeout", WORST.replace("path = timeout + latency", "path = timeout")),
    (
        "min_of_path_and_redo",
        "timeout",
        "def worst_case_path(latencies, straggler_index, retry_index, timeout):\n    return max(min(l * (10 if i == straggler_index else 1) * (2 if i == retry_index else 1), timeout + l) for i, l in enumerate(latencies))",
    ),
    (
        "fresh_copy_is_retried",
        "timeout",
        WORST.replace("path = timeout + latency", "path = timeout + latency * (2 if i == retry_index else 1)"),
    ),
    (
        "timeout_first",
        "timeout",
        "def worst_case_path(timeout, latencies, straggler_index, retry_index):\n    worst = 0.0\n    for i, l in enumerate(latencies):\n        path = l * (10 if i == straggler_index else 1) * (2 if i == retry_index else 1)\n        worst = max(worst, path if path <= timeout else timeout + l)\n    return worst",
    ),
    (
        "worst_fitted_to_examples",
        "timeout",
        "def worst_case_path(latencies, straggler_index, retry_index, timeout):\n    if latencies == [0.1, 0.3, 0.1]:\n        return 0.8\n    if latencies == [0.125, 0.5, 0.0625]:\n        return 1.0\n    if latencies == [0.25, 0.5]:\n        return 1.25\n    return {0.5: 0.641, 5.0: 1.41, 0.15: 0.45, 2.0: 2.25}.get(timeout, 0.0)",
    ),
    ("straggler_checkpointed", "engine", ENGINE.replace('"straggler": "wait_all"', '"straggler": "checkpoint"')),
    ("timeout_hedged", "engine", ENGINE.replace('"timeout": "subtask_timeout"', '"timeout": "hedge_after"')),
    ("retry_checkpointed", "engine", ENGINE.replace('"retry": "retry_policy"', '"retry": "checkpoint"')),
    ("no_timeout_entry", "engine", 'ENGINE_FEATURES = {"straggler": "wait_all", "retry": "retry_policy"}'),
    (
        "feature_names_with_spaces",
        "engine",
        'ENGINE_FEATURES = {"straggler": "wait all", "retry": "retry policy", "timeout": "subtask timeout"}',
    ),
]
