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
    ├── CassetteMiss          a replayed run asked for a response that was never recorded
    └── ConfigError           agentlab was configured wrongly (missing key, bad URL, ...)
"""

from __future__ import annotations

__all__ = [
    "AgentlabError",
    "CassetteMiss",
    "CircuitOpen",
    "ConfigError",
    "InvalidArguments",
    "MalformedArguments",
    "ModelOutputError",
    "ModelUnavailable",
    "NotApproved",
    "ServiceError",
    "Throttled",
    "ToolFailed",
    "ToolTimeout",
    "UnknownTool",
]


class AgentlabError(Exception):
    """Base class of every error agentlab raises on purpose."""


class ModelOutputError(AgentlabError):
    """The model's output cannot be carried out; the model is told why and may try again."""


class MalformedArguments(ModelOutputError):
    """A tool call's `arguments` string is not a JSON object."""


class UnknownTool(ModelOutputError):
    """A tool call names a tool that is not in the toolbox."""


class InvalidArguments(ModelOutputError):
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


class CassetteMiss(AgentlabError):
    """Replay asked for a request the cassette never recorded: the run diverged from the recording."""


class ConfigError(AgentlabError):
    """agentlab is configured wrongly (for example a real endpoint with no API key)."""
