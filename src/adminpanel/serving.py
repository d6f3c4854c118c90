"""How `adminpanel serve` serves: gunicorn's tornado worker, with time and size limits.

gunicorn's sync worker gives a whole process to a connection from the moment it is accepted:
two clients that send their headers slowly stall two workers for a minute. Here each worker
reads requests with Tornado's event loop, which holds thousands of unfinished requests for a
few kilobytes each, and calls Django only with a complete request (headers and body), one at
a time on one thread of its own, as a sync worker does: one database connection per worker.
A request whose headers take longer than HEADER_TIMEOUT, or whose body takes longer than
BODY_TIMEOUT, is dropped. README "Serving" has the measurement.
"""

from concurrent.futures import Executor, Future, ThreadPoolExecutor

from gunicorn.sock import ssl_context
from gunicorn.workers.gtornado import TornadoWorker
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.wsgi import WSGIContainer

HEADER_TIMEOUT = 20  # seconds for a request's headers (and a kept-alive connection's idle time)
BODY_TIMEOUT = 30  # seconds for its body
# The app refuses bodies over 1 MiB with a JSON 413 itself; beyond this the server drops them.
MAX_BODY_SIZE = 4 * 1024 * 1024
MAX_HEADER_SIZE = 64 * 1024


def _plain_header_values(app):
    """Django writes each Set-Cookie value with a leading space (`SimpleCookie.output(header="")`),
    which WSGI servers strip and Tornado refuses: strip it here. The body is read here too, on
    Django's thread, so that Tornado's reading of it needs no second hand-off."""

    def application(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [(k, v.strip()) for k, v in headers], exc_info)

        response = app(environ, start)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return application


class _DjangoThread(Executor):
    """Runs the application on one thread of its own; anything else (Tornado walking the list
    the application returned) at once, on the event loop."""

    def __init__(self, application) -> None:
        self.application = application
        self.thread = ThreadPoolExecutor(1)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if fn is self.application:
            return self.thread.submit(fn, *args, **kwargs)
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(error)
        return future


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
        application = _plain_header_values(self.wsgi)
        self.server = _Server(
            self,
            # One thread, not the event loop's: Django refuses database calls from a thread
            # that runs an event loop, and one thread keeps one database connection.
            WSGIContainer(application, executor=_DjangoThread(application)),
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
