"""Origins: where a URL really sends a request, for allowlists that cannot be fooled (lab 06).

An allowlist of remote agents is a list of *origins* (scheme, host, port), and a URL is compared by
its parsed origin, never as a string. Comparing prefixes is a classic hole: the string
`http://127.0.0.1:18641@127.0.0.1:18650/` starts with the allowlisted `http://127.0.0.1:18641`, yet
everything before the `@` is *userinfo* and the request goes to port 18650.

So `origin()` refuses what a careful client has no reason to accept from a card it did not write:

    userinfo (`user:pass@host`)         it hides the real host, and agentlab sends no credentials in URLs
    a scheme other than http or https   nothing else speaks A2A's JSON-RPC binding here
    a host that is not plain ASCII      an IDN host must be given in its ASCII form (`xn--...`), so that
      or that is percent-encoded        two spellings of one host, or look-alike hosts, cannot differ
    a port that is not a number         (or is out of range)

and fills in the scheme's default port, so `http://h/` and `http://h:80/` are one origin.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from agentlab.errors import NotApproved

__all__ = ["Origin", "origin", "same_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin(NamedTuple):
    """Where requests to a URL go: (scheme, host, port), normalized."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def origin(url: str) -> Origin:
    """The origin a request to `url` reaches; `NotApproved` for a URL that hides or obscures it."""
    if any(c.isspace() or c == "\\" for c in url):
        raise NotApproved(f"the URL {url!r} contains whitespace or a backslash; refused")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port that is not a number ("18641@host"), a bad IPv6 literal
        raise NotApproved(f"the URL {url!r} has no valid host and port ({exc}); refused") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise NotApproved(f"the URL {url!r} is not http or https; refused")
    if "@" in parts.netloc:
        raise NotApproved(f"the URL {url!r} carries userinfo (before '@'), which hides where it goes; refused")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise NotApproved(f"the URL {url!r} names no host; refused")
    if not host.isascii() or "%" in host:
        raise NotApproved(f"the URL {url!r} has a non-ASCII or percent-encoded host; give its ASCII form; refused")
    return Origin(scheme, host.lower(), port if port is not None else _DEFAULT_PORTS[scheme])


def same_origin(url: str, allowed: str) -> bool:
    """Does a request to `url` go to the same origin as `allowed`? (Refuses hostile URLs like `origin`.)"""
    return origin(url) == origin(allowed)
