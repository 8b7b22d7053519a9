"""One error tree for agentlab, named by who is at fault.

Lab 01 meets these as *observations*: when the model sends bad output, the loop turns the error into a
tool message the model can read, instead of crashing. Lab 02 meets the tool-side errors.

    AgentlabError
    ├── ModelOutputError      the model sent something we cannot act on
    │   ├── MalformedArguments    tool arguments were not a JSON object
    │   ├── UnknownTool           the model named a tool that does not exist
    │   └── InvalidArguments      the arguments broke the tool's schema
    ├── ToolFailed            the tool ran and raised
    │   ├── ServiceError          a tool service answered with an error (maybe retryable)
    │   │   └── Throttled             the service said 429: slow down (Retry-After)
    │   ├── ToolTimeout           the call did not return within its timeout; it was abandoned
    │   └── CircuitOpen           the service's breaker is open: refused without calling
    ├── NotApproved           the call is not on the allowlist: refused and logged
    ├── ModelUnavailable      the model endpoint failed (after its own retries)
    ├── ScriptError           a scripted model's script was used up or never matched (a test double)
    ├── CassetteMiss          a replayed run asked for a response that was never recorded
    ├── BudgetExhausted       the run's shared budget (tokens, cost, requests/minute) ran out
    ├── MemoryUnavailable     the shared-memory server could not be reached or restarted
    ├── WriteRefused          the shared memory refused a write that had to land (stale every time, or fenced)
    ├── ClusterError          the Dask cluster could not run the work (no workers, unpicklable runner, ...)
    ├── ConfigError           agentlab was configured wrongly (missing key, bad URL, ...)
    │   ├── JournalMismatch       a journal or run id that does not fit this run (other goal, other key scheme)
    │   └── JournalUnavailable    the journal file cannot be read or written (read-only, full, locked, damaged)
    └── UsageError            agentlab was called wrongly (a programming error in the caller's code)

`ConfigError`, `UsageError` and `InvalidArguments` are also `ValueError`s, so code that caught those before
keeps working (and a pydantic validator may raise `InvalidArguments`: pydantic reports a `ValueError`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentlab.steps import StopReason

__all__ = [
    "AgentlabError",
    "BadRequest",
    "BudgetExhausted",
    "CassetteMiss",
    "CircuitOpen",
    "ClusterError",
    "ConfigError",
    "InvalidArguments",
    "JournalMismatch",
    "JournalUnavailable",
    "MalformedArguments",
    "MemoryUnavailable",
    "ModelOutputError",
    "ModelUnavailable",
    "NotApproved",
    "ScriptError",
    "ServiceError",
    "Throttled",
    "ToolFailed",
    "ToolTimeout",
    "UnknownTool",
    "UsageError",
    "WriteRefused",
]


class AgentlabError(Exception):
    """Base class of every error agentlab raises on purpose.

    `stop_reason` says how a run that meets this error ends (`agentlab.steps.STOP_REASONS`); None means
    it is not a way for a run to end but a fault to report (a misconfiguration, a dead cluster).
    """

    stop_reason: StopReason | None = None


class ModelOutputError(AgentlabError):
    """The model's output cannot be carried out; the model is told why and may try again."""


class MalformedArguments(ModelOutputError):
    """A tool call's `arguments` string is not a JSON object."""


class UnknownTool(ModelOutputError):
    """A tool call names a tool that is not in the toolbox."""


class InvalidArguments(ModelOutputError, ValueError):
    """A tool call's arguments do not match the tool's JSON schema."""


class ToolFailed(AgentlabError):
    """The tool itself raised while running."""


class ServiceError(ToolFailed):
    """A tool service answered with an error; `retryable` says whether trying again may help."""

    def __init__(
        self, message: str, *, status: int | None = None, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class Throttled(ServiceError):
    """The service is rate limiting us (HTTP 429); wait `retry_after` seconds before trying again."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, status=429, retryable=True, retry_after=retry_after)


class ToolTimeout(ToolFailed):
    """The call did not finish within its timeout; the caller stopped waiting (a late result is ignored)."""


class CircuitOpen(ToolFailed):
    """The service's circuit breaker is open, so the call was refused without being made."""


class NotApproved(AgentlabError):
    """The tool or API is not on the approved list; the call was refused and logged."""


class ModelUnavailable(AgentlabError):
    """The model endpoint could not produce a reply (connection, timeout, HTTP error)."""

    stop_reason = "model_error"


class CassetteMiss(AgentlabError):
    """Replay asked for a request the cassette never recorded: the run diverged from the recording."""

    stop_reason = "model_error"


class ScriptError(AgentlabError):
    """A scripted model was asked for a reply its script does not have (exhausted, or no script matched)."""

    stop_reason = "model_error"


class ClusterError(AgentlabError):
    """The Dask cluster could not run the work: no worker took it, or the runner could not be sent."""


class BudgetExhausted(AgentlabError):
    """A shared budget ran out: the loop ends the run gracefully with stop reason "budget"."""

    stop_reason = "budget"

    def __init__(self, message: str, *, limit: str = "tokens") -> None:
        super().__init__(message)
        self.limit = limit  # "tokens", "cost", "requests_per_minute", or "overspent" (an endpoint passed its cap)

    def __reduce__(self) -> tuple[type[BudgetExhausted], tuple[str], dict[str, str]]:
        return (type(self), (str(self),), {"limit": self.limit})  # keeps `limit` across processes


class MemoryUnavailable(AgentlabError):
    """The shared-memory server (blackboard, budgets) could not be reached, nor started again."""


class WriteRefused(AgentlabError):
    """The shared memory refused a write its caller needed to land: still stale after every attempt (other
    writers kept winning), or fenced by a newer token. A refused write is a value (`WriteResult`); this is
    for callers that cannot go on without it."""


class ConfigError(AgentlabError, ValueError):
    """agentlab is configured wrongly (for example a real endpoint with no API key)."""


class JournalMismatch(ConfigError):
    """The journal does not fit this run: the run id was started with another goal, or the journal was
    written under another key scheme (its steps cannot be found by this version's keys)."""


class JournalUnavailable(ConfigError):
    """The journal file cannot be read or written: read-only, its disk full, locked by another process
    for too long, or damaged (truncated, not a journal). The message names the file and what to do."""


class BadRequest(AgentlabError, ValueError):
    """A request to one of agentlab's own endpoints (the offline model's) is malformed: the caller's fault."""


class UsageError(AgentlabError, ValueError):
    """agentlab was called wrongly: an unknown policy name, a payload that is not JSON, ..."""
