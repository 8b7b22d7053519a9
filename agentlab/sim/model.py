"""The fleet's model in the simulator: planner, reducer and payment agents, drawn from the seed (lab 07).

It behaves the way real models do where the course's promises are at stake, and it is cheap (no text
generation), so thousands of runs take seconds:

    plan    N sub-tasks "Pay order ORD-i of <amount>", some goals written over two lines
    reduce  finish with what was paid; or re-plan the failed work in *other words* (`reword`: the goal as
            the findings show it, whitespace collapsed, sometimes a double space), under a new id that
            does not say what it replaces (`invent_ids`), split in two (`split`) or two merged (`merge`)
    pay     call `pay(order, amount)`; after a success, answer; after an error, try again; after three
            errors, give up — by the `give_up` tool the loop offers (`agentlab.wire.GIVE_UP_TOOL`), or in
            words when no such tool is offered
    faults  a step may fail (`model_error`); a call may not be JSON (`malformed`); a final answer may
            be long (`long_reply`)

Every choice is a keyed draw (`World.draw`), so a re-executed conversation goes the same way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from agentlab.errors import ModelUnavailable
from agentlab.prompts import parse_findings, read_round
from agentlab.sim.world import World
from agentlab.text import count_tokens, truncate_tokens
from agentlab.wire import GIVE_UP, Message, ModelReply, ToolCall

__all__ = ["GIVE_UP_WORDS", "SimModel"]

GIVE_UP_WORDS = "I could not finish: the payment desk keeps failing."
_ORDER = re.compile(r"ORD-\d+")
_ORDERS = re.compile(r"(ORD-\d+)\s+of\s+(\d+\.\d\d)")


def _call(name: str, arguments: dict[str, Any], turn: int) -> ModelReply:
    return ModelReply(None, (ToolCall(f"call_{turn}", name, json.dumps(arguments)),), "tool_calls")


@dataclass
class SimModel:
    """The simulated model of one run (see the module docstring); `size` sub-tasks per plan."""

    world: World
    size: int = 6
    max_tokens: int | None = 1024
    metered: bool = False
    """Count the tokens of every step in `World.used` (the executors' model, which the budget governs)."""

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        names = {str(t["function"]["name"]) for t in tools}
        prompt = next(str(m.get("content") or "") for m in messages if m.get("role") == "user")
        if "make_plan" in names:
            return self._usage(self._plan(), messages)
        if "finish" in names:
            return self._usage(self._reduce(prompt), messages)
        return self._usage(self._pay(prompt, messages, tools, tool_choice), messages)

    def _plan(self) -> ModelReply:
        subtasks = []
        for i in range(self.size):
            amount = f"{10 + int(self.world.draw('amount', i) * 90)}.00"
            gap = "\n" if self.world.draw("two-lines", i) < 0.3 else " "
            subtasks.append({"id": f"p{i}", "goal": f"Pay order ORD-{i}{gap}of {amount} for the customer."})
        return _call("make_plan", {"subtasks": subtasks}, 0)

    def _reduce(self, prompt: str) -> ModelReply:
        round_no, max_rounds = read_round(prompt)
        findings = parse_findings(prompt)
        failed = [f for f in findings if f["state"] != "done"]
        if not failed or round_no >= max_rounds:
            paid = sorted(set(_ORDER.findall(" ".join(f["text"] for f in findings if f["state"] == "done"))))
            return _call("finish", {"answer": f"Paid: {', '.join(paid) or 'nothing'}."}, 0)
        again = [t for f in failed for t in self._again(f, round_no)]
        if len(failed) >= 2 and self.world.fires("merge", round_no):  # two sub-tasks become one
            first, second = again[0], again[1]
            merged = f"{first['goal'].rstrip('.')} and {second['goal'][0].lower()}{second['goal'][1:]}"
            again = [{**first, "goal": merged}, *again[2:]]
        return _call("replan", {"subtasks": again}, 0)

    def _again(self, finding: dict[str, str], round_no: int) -> list[dict[str, Any]]:
        """A failed sub-task planned again: the goal as the findings show it, maybe reworded or re-id'd,
        maybe split in two (both paying its order)."""
        tid, goal = finding["id"], finding["text"].split(" [error:", 1)[0]
        if self.world.fires("reword", tid, round_no):
            goal = goal.replace(" of ", "  of ", 1)
        if self.world.fires("invent_ids", tid, round_no):
            task: dict[str, Any] = {"id": f"{tid}-new{round_no}", "goal": goal}
        else:
            task = {"id": f"{tid}-r{round_no}", "goal": goal, "replaces": tid}
        if self.world.fires("split", tid, round_no):
            return [task, {**task, "id": f"{task['id']}b", "goal": f"Settle: {goal}"}]
        return [task]

    def _pay(self, goal: str, messages: list[Message], tools: list[dict[str, Any]], tool_choice: str) -> ModelReply:
        """Pay every order the goal names, one call a turn; answer when all are paid, give up after three
        failed calls in a row."""
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        if self.world.fires("model_error", goal, turn):
            raise ModelUnavailable("HTTP 503 after 3 attempts from the simulated endpoint")
        outputs = [str(m.get("content") or "") for m in messages if m.get("role") == "tool"]
        orders = _ORDERS.findall(goal)
        unpaid = [(o, a) for o, a in orders if f'"charged": "{o}"' not in " ".join(outputs)]
        if orders and not unpaid:
            return self._answer("Paid " + ", ".join(o for o, _ in orders), goal)
        failing = len(outputs) - max((i + 1 for i, out in enumerate(outputs) if '"charged"' in out), default=0)
        if tool_choice == "none" or failing >= 3 or not orders:
            return self._give_up(goal, tools, turn)
        if self.world.fires("malformed", goal, turn):
            return ModelReply(None, (ToolCall(f"call_{turn}", "pay", '{"order": "ORD-'),), "tool_calls")
        order, amount = unpaid[0]
        return _call("pay", {"order": order, "amount": float(amount)}, turn)

    def _give_up(self, goal: str, tools: list[dict[str, Any]], turn: int) -> ModelReply:
        self.world.gave_up = True
        self.world.record("gave_up", self.world.current, goal=" ".join(goal.split()))
        if any(t["function"]["name"] == GIVE_UP for t in tools):  # the protocol the loop shares
            return _call(GIVE_UP, {"reason": GIVE_UP_WORDS}, turn)
        return ModelReply(GIVE_UP_WORDS)  # no way to say it but in words

    def with_options(self, **changes: Any) -> SimModel:
        """This model with a request option changed: a budget caps `max_tokens` per step."""
        return replace(self, **changes)

    def _answer(self, text: str, goal: str) -> ModelReply:
        if self.world.fires("long_reply", goal):
            words = int(1024 * (0.5 + 0.5 * self.world.draw("long", goal)))
            text = f"{text} " + " ".join(["detail"] * words)
        if self.max_tokens is not None and count_tokens(text) > self.max_tokens:  # a server stops at the cap
            return ModelReply(truncate_tokens(text, self.max_tokens), finish_reason="length")
        return ModelReply(text)

    def _usage(self, reply: ModelReply, messages: list[Message]) -> ModelReply:
        """The reply with the usage a real endpoint reports (prompt and completion tokens)."""
        prompt = sum(count_tokens(str(m.get("content") or "")) for m in messages)
        completion = count_tokens(reply.content or "") + sum(count_tokens(c.arguments) for c in reply.tool_calls)
        if self.metered:  # what the endpoint really generated, whatever any ledger was told
            self.world.used += prompt + completion
        usage = {"prompt_tokens": prompt, "completion_tokens": completion}
        return ModelReply(reply.content, reply.tool_calls, reply.finish_reason, usage)
