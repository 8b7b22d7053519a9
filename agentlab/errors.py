"""One error tree for agentlab, named by who is at fault.

Lab 01 meets these as *observations*: when the model sends bad output, the loop turns the error into a
tool message the model can read, instead of crashing. Lab 02 meets the tool-side errors.

    AgentlabError
    ├── ModelOutputError      the model sent something we cannot act on
    │   ├── MalformedArguments    tool arguments were not a JSON object
    │   ├── UnknownTool           the model named a tool that does not exist
    │   └── InvalidArguments      the arguments broke the tool's schema
    ├── ToolFailed            the tool ran and raised
    ├── ModelUnavailable      the model endpoint failed (after its own retries)
    ├── CassetteMiss          a replayed run asked for a response that was never recorded
    └── ConfigError           agentlab was configured wrongly (missing key, bad URL, ...)
"""

from __future__ import annotations

__all__ = [
    "AgentlabError",
    "CassetteMiss",
    "ConfigError",
    "InvalidArguments",
    "MalformedArguments",
    "ModelOutputError",
    "ModelUnavailable",
    "ToolFailed",
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


class ModelUnavailable(AgentlabError):
    """The model endpoint could not produce a reply (connection, timeout, HTTP error)."""


class CassetteMiss(AgentlabError):
    """Replay asked for a request the cassette never recorded: the run diverged from the recording."""


class ConfigError(AgentlabError):
    """agentlab is configured wrongly (for example a real endpoint with no API key)."""
