"""The client's page over real HTTP: the web surface alone (``bot.app.create_web_wsgi_app``, what
``blocktime web`` serves) on waitress in a thread, on a free loopback port, and a driver that GETs it."""

from __future__ import annotations

import http.client

from bot.app import create_web_wsgi_app
from bot.services import Context
from tests.e2e.slack_harness import Reply, ServerThread


class RunningWeb(ServerThread):
    """The web surface alone (``create_web_wsgi_app``) on a ``ServerThread``."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(create_web_wsgi_app(ctx), threads=4)


class PageDriver:
    """A browser without a browser: GET (or any method) a path, read status, body and headers."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str, body: bytes | None = None) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            connection.request(method, path, body=body)
            response = connection.getresponse()
            return Reply(response.status, response.read(), {k.lower(): v for k, v in response.getheaders()})
        finally:
            connection.close()

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def text(self, path: str) -> str:
        reply = self.get(path)
        assert reply.status == 200, (reply.status, reply.body[:200])
        return reply.body.decode()
