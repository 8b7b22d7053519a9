"""The offline model with tools it has never seen, plans of any width, and its honest refusals (issues 24, 26)."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from agentlab.course.debugging import apply_patch, workspace_files
from agentlab.data import data_dir
from agentlab.errors import InvalidArguments
from agentlab.models.chat import offline_model
from agentlab.models.offline.choose import choose, fill
from agentlab.models.offline.policy import PolicyConfig, decide
from agentlab.models.offline.skills import offline_plan, offline_reduce
from agentlab.prompts import PLAN_TOOL, Collection, collections_block, findings_block, reduce_prompt
from agentlab.wire import GIVE_UP_TOOL


def _fn(name: str, description: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    params = {"type": "object", "properties": props, "required": required}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": params}}


TIME = _fn(
    "get_current_time",
    "Get current time in a specific timezone",
    {"timezone": {"type": "string", "description": "IANA timezone name (e.g., 'America/New_York', 'Europe/London')."}},
    ["timezone"],
)
WEATHER = _fn(
    "forecast",
    "Weather forecast for a day",
    {
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "day": {"type": "string", "format": "date"},
        "station": {"type": "string", "pattern": "^ST[0-9]{3}$"},
    },
    ["unit", "day", "station"],
)


def test_arguments_are_filled_from_the_schema_enum_format_pattern_and_examples() -> None:
    assert fill(TIME["function"], "What time is it in the Asia/Tokyo zone?", 1) == ([{"timezone": "Asia/Tokyo"}], 1)
    goal = "Forecast in celsius for 2026-12-24 at station ST042"
    assert fill(WEATHER["function"], goal, 1) == ([{"unit": "celsius", "day": "2026-12-24", "station": "ST042"}], 3)
    assert fill(WEATHER["function"], "Forecast in kelvin for 2026-12-24 at ST042", 1) is None  # no enum value named


def test_the_tool_is_chosen_by_its_description_and_what_the_goal_fills() -> None:
    search = _fn("search_kb", "Search the knowledge base", {"query": {"type": "string"}}, ["query"])
    choice = choose([search, TIME, WEATHER, GIVE_UP_TOOL], "What time is it now in the Europe/Paris timezone?", 1)
    assert choice is not None and choice.name == "get_current_time" and choice.calls == ({"timezone": "Europe/Paris"},)
    # a tool that shares nothing with the goal is never called for it; a search may be, for any question
    assert choose([TIME], "Write a poem about routers", 1) is None
    assert choose([TIME, search], "Write a poem about routers", 1).name == "search_kb"  # type: ignore[union-attr]


def test_a_goal_no_tool_fits_gives_up_naming_the_tools() -> None:
    messages = [{"role": "user", "content": "Write a poem about routers"}]
    decision = decide(PolicyConfig(), messages, [TIME, WEATHER, GIVE_UP_TOOL])
    assert decision.content is None and decision.tool_calls[0][0] == "give_up"
    reason = json.loads(decision.tool_calls[0][1])["reason"]
    assert "no tool fits it" in reason and "My tools: get_current_time, forecast" in reason


def test_with_the_time_server_the_offline_model_calls_get_current_time(capsys: pytest.CaptureFixture[str]) -> None:
    from agentlab.cli.main import main

    goal = "What time is it now in the Europe/Paris timezone?"
    code = main(["run", goal, "--single", "--latency", "0", "--mcp", f"{sys.executable} -m mcp_server_time"])
    out = capsys.readouterr().out
    assert code == 0, out
    answer = out.split("answer   : ", 1)[1]
    assert "get_current_time" in answer and '"timezone": "Europe/Paris"' in answer
    assert '"datetime": "' in answer


def _context(collections: list[Collection]) -> str:
    return collections_block([("get_price", "Fetch the live price")], collections)


PRODUCTS = Collection(
    "products",
    "our product pages with a listed price; mispriced when live and listed differ by more than 5%",
    tuple(f"NR-{1000 + i} | P{i} | listed_price 100.0" for i in range(40)),
)


def test_a_goal_over_a_collection_plans_one_sub_task_per_item_if_the_count_agrees() -> None:
    prompt = f"For each of our forty product pages, fetch its price\n\n{_context([PRODUCTS])}"
    plan = offline_plan(prompt)["subtasks"]
    assert len(plan) == 40 and plan[0] == {
        "id": "NR-1000",
        "goal": "For NR-1000 | P0 | listed_price 100.0: For each of our forty product pages, fetch its price",
        "role": "researcher",
        "deps": [],
    }
    # the goal says 4,000 of them: the forty are not what it means, so no fan-out over them
    assert len(offline_plan(prompt.replace("forty", "4,000"))["subtasks"]) == 1
    assert len(offline_plan("For each of our forty product pages, fetch its price")["subtasks"]) == 1  # no data


def test_steps_chained_by_then_become_a_chain_of_dependent_sub_tasks() -> None:
    plan = offline_plan("Fix the build by reading the log, then the failing file, then patching it")["subtasks"]
    assert [(t["id"], t["role"], t["deps"]) for t in plan] == [
        ("step1", "researcher", []),
        ("step2", "researcher", ["step1"]),
        ("step3", "coder", ["step2"]),
    ]
    assert plan[1]["goal"] == "reading the failing file (to Fix the build)"


def test_the_reducer_flags_items_off_by_more_than_the_stated_tolerance() -> None:
    rows = [
        ("a", "researcher", "done", "", "NR-1 | A | listed_price 100.0: get_price -> 100.0"),
        ("b", "researcher", "done", "", "NR-2 | B | listed_price 100.0: get_price -> 104.0"),
        ("c", "researcher", "done", "", "NR-3 | C | listed_price 120.0: get_price -> 100.0"),
    ]
    told = "Collection products (3 items): mispriced when prices differ by more than 5%"
    name, args = offline_reduce(reduce_prompt("Flag mispricings", 1, 2, findings_block(rows), told))
    assert name == "finish" and args["answer"].startswith("Flagged 1 of 3 (more than 5%): NR-3 ")
    _, args = offline_reduce(reduce_prompt("Flag mispricings", 1, 2, findings_block(rows)))
    assert "Flagged 2 of 3 (any difference)" in args["answer"]


def test_without_the_raised_cap_a_ten_thousand_sub_task_plan_would_be_dropped() -> None:
    # the broken variant of the supervisor's fix: the executor's own cap turns the plan into a note
    goal = "\n".join(f"- item {i}" for i in range(10_000))
    reply = offline_model().complete([{"role": "user", "content": goal}], [PLAN_TOOL])
    assert "characters of arguments dropped" in reply.tool_calls[0].arguments


def test_the_debug_workspace_takes_the_datasets_patch_and_refuses_one_that_does_not_apply() -> None:
    fix = (data_dir() / "debug" / "fix.patch").read_text(encoding="utf-8")
    patched = apply_patch(workspace_files(), fix)
    assert "return item.on_hand <= item.reorder_point" in patched["src/inventory.py"]
    assert workspace_files()["src/inventory.py"] != patched["src/inventory.py"]  # the workspace is untouched
    with pytest.raises(InvalidArguments, match="does not apply"):
        apply_patch(workspace_files(), fix.replace("-        return item.on_hand <", "-        return item.x <"))


def test_a_redone_sub_tasks_round_mark_is_not_searched_for() -> None:
    from agentlab.models.offline.choose import _query

    for turn in (1, 2, 3):
        assert "round" not in _query("What is the weather in Paris? (round 2)", turn).split()
    assert "round" in _query("Which round of funding closed in May?", 1).split()  # a word of the goal is kept
