"""When a model call fails: what to tell the learner, and whether to try again (lab 01).

`retry_pause` is the one retry decision, a pure function of the failure, the attempt number and the
config: it returns the pause before the next attempt, or raises `ModelUnavailable` saying what happened
("no reply within 30 s (3 attempts)", "HTTP 429 after 3 attempts", "connection refused at URL"). An
agentlab error underneath the SDK's (a reply cut off at its size cap, a cassette miss) is raised as
itself. `ChatModel` carries the decision out twice, with `time.sleep` and with `asyncio.sleep`.
Whether a status is worth retrying and how long to back off live in `agentlab.models.transport`.
Left out: a budget across many calls (the run's, not the model's).
"""

from __future__ import annotations

import openai

from agentlab.errors import AgentlabError, ModelUnavailable
from agentlab.models.clients import mask
from agentlab.models.config import ModelConfig
from agentlab.models.transport import parse_retry_after, retry_delay, should_retry

__all__ = ["address_of", "describe_failure", "retry_pause"]


def retry_pause(exc: openai.OpenAIError, attempt: int, config: ModelConfig) -> float:
    """How long to wait before attempt `attempt + 1`; raises ModelUnavailable if there is none."""
    failure = describe_failure(exc, address_of(config), config.timeout, attempt)
    if isinstance(exc.__cause__, AgentlabError):
        raise exc.__cause__ from None
    status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
    if attempt > config.max_retries or not should_retry(status):
        raise ModelUnavailable(mask(failure, config)) from None
    return retry_delay(attempt, _retry_after(exc), cap=config.timeout)


def address_of(config: ModelConfig) -> str:
    """The model's address, as a failure names it."""
    return config.base_url or "the offline endpoint"


def describe_failure(exc: openai.OpenAIError, where: str, timeout: float, attempt: int) -> str:
    """What went wrong, in the words a learner needs: the limit, the attempts, the address."""
    tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
    if isinstance(exc, openai.APITimeoutError):
        return f"no reply within {timeout:g} s ({tries}) from {where}"
    if isinstance(exc, openai.APIConnectionError):
        refused = any(isinstance(e, ConnectionRefusedError) or "refused" in str(e) for e in _chain(exc))
        if refused:
            return f"connection refused at {where} ({tries}): is the server running?"
        return f"cannot reach the model at {where} ({tries}): {exc.__cause__ or exc}"
    if isinstance(exc, openai.APIStatusError):
        after = f" after {tries}" if should_retry(exc.status_code) else ""
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = body.get("message") or (body.get("error") or {}).get("message") or exc.message
        return f"HTTP {exc.status_code}{after} from {where}: {detail}"
    return f"model call to {where} failed: {exc}"


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and everything it was raised from or during, each once."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _retry_after(exc: openai.OpenAIError) -> float | None:
    """The seconds the server asked us to wait, if it said."""
    if isinstance(exc, openai.APIStatusError):
        return parse_retry_after(exc.response.headers.get("retry-after"))
    return None
