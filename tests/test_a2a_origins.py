"""Hostile agent cards: the A2A allowlist compares parsed origins, refuses userinfo and redirects.

Two real HTTP servers on loopback: the allowlisted one serves a card we choose (or a redirect), and a
decoy on another port counts every request that reaches it. A refused delegation must leave the decoy
untouched: the goal never leaves the allowlist.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from a2a.server.request_handlers.response_helpers import agent_card_to_dict

from agentlab.errors import NotApproved
from agentlab.protocols.a2a_client import RemoteAgent, delegate
from agentlab.protocols.a2a_server import agent_card
from agentlab.protocols.origins import Origin, origin, same_origin


class _Site:
    """A loopback HTTP server answering every GET with `card` (or a redirect to `redirect`)."""

    def __init__(self) -> None:
        self.card: dict[str, object] = {}
        self.redirect = ""
        self.hits: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                site.hits.append(f"{self.command} {self.path}")
                if site.redirect:
                    self.send_response(302)
                    self.send_header("Location", site.redirect)
                    self.end_headers()
                    return
                body = json.dumps(site.card).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815  (http.server's names)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def serve_card(self, url: str, name: str = "researcher") -> None:
        self.card, self.redirect = agent_card_to_dict(agent_card(name, url)), ""


@pytest.fixture
def sites() -> Iterator[tuple[_Site, _Site]]:
    allowed, decoy = _Site(), _Site()
    decoy.serve_card(decoy.url + "/")
    yield allowed, decoy
    for site in (allowed, decoy):
        site.httpd.shutdown()
        site.httpd.server_close()


@pytest.mark.parametrize(
    ("url", "allowed", "same"),
    [
        ("http://127.0.0.1:18641/", "http://127.0.0.1:18641", True),
        ("http://127.0.0.1:18641/a2a/v1", "http://127.0.0.1:18641", True),  # another path, same server
        ("HTTP://LocalHost:80/", "http://localhost", True),  # case and the default port
        ("http://127.0.0.1:18650/", "http://127.0.0.1:18641", False),  # another port
        ("http://127.0.0.1:186410/", "http://127.0.0.1:18641", None),  # a prefix of the port is not the port
        ("https://127.0.0.1:18641/", "http://127.0.0.1:18641", False),  # another scheme
        ("http://127.0.0.1:18641.evil.example/", "http://127.0.0.1:18641", None),
        ("http://127.0.0.1:18641@127.0.0.1:18650/", "http://127.0.0.1:18641", None),  # userinfo
        ("http://user:pw@127.0.0.1:18641/", "http://127.0.0.1:18641", None),
        ("http://127.0.0.1%3A18641@127.0.0.1:18650/", "http://127.0.0.1:18641", None),  # encoded userinfo
        ("http://127%2e0.0.1:18641/", "http://127.0.0.1:18641", None),  # a percent-encoded host
        ("http://bücher.example/", "http://xn--bcher-kva.example", None),  # IDN: only its ASCII form
        ("http://xn--bcher-kva.example/", "http://xn--bcher-kva.example:80", True),
        ("http://127.0.0.1:18641\\@127.0.0.1:18650/", "http://127.0.0.1:18641", None),
        ("file:///etc/passwd", "http://127.0.0.1:18641", None),
    ],
)
def test_urls_are_compared_by_parsed_origin_and_hostile_ones_refused(url: str, allowed: str, same: bool | None) -> None:
    if same is None:
        with pytest.raises(NotApproved):
            same_origin(url, allowed)
    else:
        assert same_origin(url, allowed) is same


def test_an_origin_names_its_default_port() -> None:
    assert origin("https://example.com/x") == Origin("https", "example.com", 443)
    assert str(origin("http://[::1]/")) == "http://[::1]:80"


@pytest.mark.parametrize(
    "card_url",
    [
        "http://{allowed}@{decoy}/",  # the reported bypass: the prefix matches, the request goes to the decoy
        "http://{decoy}/",
        "{allowed_url}0/",  # a port sharing the allowlisted one's digits as a prefix
    ],
)
def test_a_card_that_sends_the_goal_elsewhere_is_refused_and_nothing_reaches_the_decoy(
    sites: tuple[_Site, _Site], card_url: str
) -> None:
    allowed, decoy = sites
    hosts = {"allowed": allowed.url.removeprefix("http://"), "decoy": decoy.url.removeprefix("http://")}
    allowed.serve_card(card_url.format(**hosts, allowed_url=allowed.url))
    with pytest.raises(NotApproved):
        delegate(RemoteAgent(allowed.url, "researcher"), "pay everyone", timeout=10)
    assert decoy.hits == []
    assert [h for h in allowed.hits if h.startswith("POST")] == []


def test_a_redirect_is_refused_not_followed(sites: tuple[_Site, _Site]) -> None:
    allowed, decoy = sites
    allowed.redirect = f"{decoy.url}/.well-known/agent-card.json"
    with pytest.raises(NotApproved, match="redirected"):
        delegate(RemoteAgent(allowed.url, "researcher"), "pay everyone", timeout=10)
    assert decoy.hits == []


def test_an_allowlisted_url_with_userinfo_is_refused_before_anything_is_sent(sites: tuple[_Site, _Site]) -> None:
    allowed, decoy = sites
    hidden = RemoteAgent(f"http://{allowed.url.removeprefix('http://')}@{decoy.url.removeprefix('http://')}", "x")
    with pytest.raises(NotApproved, match="userinfo"):
        delegate(hidden, "hello", timeout=10)
    assert decoy.hits == [] and allowed.hits == []
