"""How `adminpanel serve` serves: gunicorn's tornado worker, with time and size limits.

gunicorn's sync worker gives a whole process to a connection from the moment it is accepted:
two clients that send their headers slowly stall two workers for a minute. Here each worker
reads requests with Tornado's event loop, which holds thousands of unfinished requests for a
few kilobytes each, and calls Django only with a complete request (headers and body), on the
loop's own thread, as a sync worker does: one request at a time, one database connection per
worker, and no hand-off between threads (measured: handing each request to a thread of its own
cost 10-21 % of the throughput; README "Serving"). A request whose headers take longer than
HEADER_TIMEOUT, or whose body takes longer than BODY_TIMEOUT, is dropped.
"""

import asyncio
import socket

from gunicorn.sock import ssl_context
from gunicorn.workers.gtornado import TornadoWorker
from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.wsgi import WSGIContainer

from adminpanel.net import UNIX_SOCKET

HEADER_TIMEOUT = 20  # seconds for a request's headers (and a kept-alive connection's idle time)
BODY_TIMEOUT = 30  # seconds for its body
# The app refuses bodies over 1 MiB with a JSON 413 itself; beyond this the server drops them.
MAX_BODY_SIZE = 4 * 1024 * 1024
MAX_HEADER_SIZE = 64 * 1024


class _Django(WSGIContainer):
    """Calls the WSGI application with each complete request, at once, on the loop's thread.

    The loop waits while Django runs (this is one of its callbacks), so Django runs as in a sync
    worker: the loop is set aside for the call (`asyncio._set_running_loop`, the hook an event
    loop uses to say it runs). Otherwise Django and asgiref take the thread for async code:
    database calls refused (SynchronousOnlyOperation), and database connections kept per
    context (Tornado gives each HTTP connection one), one per client until PostgreSQL refuses
    more; and every database call asks the loop again (about 0.1 ms per sign-in,
    benchmarks/code.py). Set aside, the worker keeps one connection, in a thread-local.
    """

    def __call__(self, request: httputil.HTTPServerRequest) -> None:
        loop = asyncio.get_running_loop()
        asyncio._set_running_loop(None)
        try:
            answer = self._respond(request)
        finally:
            asyncio._set_running_loop(loop)
        self._answer(request, *answer)

    def _respond(self, request: httputil.HTTPServerRequest) -> tuple[str, list, bytes]:
        """The application's answer (status, headers, body), written by the caller once the
        loop is back: Tornado writes through it."""
        try:
            environ = self.environ(request)
        except ValueError:  # a Host header with a port that is not a number
            return "400 Bad Request", [], b""
        # A request over `serve --unix-socket` (Tornado says REMOTE_ADDR 0.0.0.0): trusted as a
        # proxy only with ADMINPANEL_TRUSTED_PROXIES=unix (adminpanel/net.py).
        family = getattr(request.connection.context, "address_family", None)
        environ[UNIX_SOCKET] = family == socket.AF_UNIX
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return chunks.append

        chunks: list[bytes] = []
        response = self.wsgi_application(environ, start_response)
        try:
            chunks.extend(response)
        finally:
            if hasattr(response, "close"):
                response.close()
        return answer["status"], answer["headers"], b"".join(chunks)

    @staticmethod
    def _answer(request, status: str, headers, body: bytes) -> None:
        code, reason = status.split(" ", 1)
        fields = httputil.HTTPHeaders()
        for name, value in headers:
            # Django writes each Set-Cookie value with a leading space
            # (`SimpleCookie.output(header="")`), which WSGI servers strip and Tornado refuses.
            fields.add(name, value.strip())
        if code != "304" and "Content-Length" not in fields:
            fields["Content-Length"] = str(len(body))
        start = httputil.ResponseStartLine("HTTP/1.1", int(code), reason)
        request.connection.write_headers(start, fields, chunk=body)
        request.connection.finish()


class _Server(HTTPServer):
    def initialize(self, worker: "BufferingWorker", *args, **kwargs) -> None:
        self.worker = worker
        super().initialize(*args, **kwargs)

    def on_close(self, server_conn) -> None:
        self.worker.handle_request()  # counts requests for --max-requests, as gunicorn's does
        super().on_close(server_conn)


class BufferingWorker(TornadoWorker):
    """gunicorn's TornadoWorker, with header and body timeouts and size limits."""

    def run(self) -> None:
        self.ioloop = IOLoop.current()
        self.alive = True
        self.callbacks = [
            PeriodicCallback(self.watchdog, 1000),
            PeriodicCallback(self.heartbeat, 1000),
        ]
        for callback in self.callbacks:
            callback.start()
        self.server = _Server(
            self,
            _Django(self.wsgi),
            ssl_options=ssl_context(self.cfg) if self.cfg.is_ssl else None,
            no_keep_alive=self.cfg.keepalive <= 0,
            idle_connection_timeout=HEADER_TIMEOUT,
            body_timeout=BODY_TIMEOUT,
            max_body_size=MAX_BODY_SIZE,
            max_header_size=MAX_HEADER_SIZE,
        )
        self.server_alive = True
        for sock in self.sockets:
            sock.setblocking(False)
            self.server.add_socket(sock)
        self.ioloop.start()
