"""What the mail host's small servers (the lookup server, the auth policy server) share: an
address to name in the generated files, serving in a background thread until stopped, and a
bound on the threads a flood of connections can make."""

from __future__ import annotations

import queue
import threading


class BackgroundServer:
    """Mixed into a socketserver server (before it): start() serves in a daemon thread."""

    thread_name = "server"
    serving = False

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"

    def start(self):
        """Serve in a background thread (mailserver-run, the tests)."""
        threading.Thread(target=self.serve_forever, name=self.thread_name, daemon=True).start()
        self.serving = True
        return self

    def stop(self) -> None:
        if self.serving:
            self.shutdown()
            self.serving = False
        self.server_close()


class PooledServer(BackgroundServer):
    """Mixed into a socketserver server (instead of ThreadingMixIn): a fixed pool of `workers`
    threads serves the connections, at most `waiting` accepted ones wait for a worker, and one
    that finds them all taken is closed at once (its client retries or goes without); a
    connection idle for `idle_timeout` seconds is closed. A flood of connections costs a few
    sockets at a time, never a thread each, and is through in seconds."""

    workers = 16
    waiting = 16
    idle_timeout = 10.0
    request_queue_size = 128  # the listen backlog (socketserver's 5 drops a burst's SYNs)

    def start_pool(self) -> None:
        self.pending: queue.Queue = queue.Queue(self.waiting)
        self.pool = [
            threading.Thread(target=self._work, name=f"{self.thread_name}-{n}", daemon=True)
            for n in range(self.workers)
        ]
        for thread in self.pool:
            thread.start()

    def process_request(self, request, client_address) -> None:
        try:
            self.pending.put_nowait((request, client_address))
        except queue.Full:
            self.shutdown_request(request)

    def _work(self) -> None:
        try:
            while (item := self.pending.get()) is not None:
                request, client_address = item
                try:
                    request.settimeout(self.idle_timeout)
                    self.finish_request(request, client_address)
                except Exception:  # noqa: BLE001 - one client's failure must not end a worker
                    self.handle_error(request, client_address)
                finally:
                    self.shutdown_request(request)
        finally:
            self.worker_done()

    def worker_done(self) -> None:
        """Called in each worker as it ends (to close what the thread holds)."""

    def server_close(self) -> None:
        super().server_close()
        for _ in getattr(self, "pool", []):
            self.pending.put(None)
        for thread in getattr(self, "pool", []):
            thread.join(timeout=self.idle_timeout + 5)
        self.pool = []


class CappedThreads(BackgroundServer):
    """Mixed into a socketserver.ThreadingTCPServer (before it), for clients that keep their
    connection open (Postfix's socketmap and policy clients): a thread per connection, at most
    `max_connections` at once; beyond that a connection is closed at once (Postfix tries
    again: its lookup is deferred, never answered wrongly); each connection's socket times out
    after `idle_timeout` seconds without a word."""

    daemon_threads = True
    allow_reuse_address = True
    max_connections = 256
    idle_timeout = 120.0

    def cap_threads(self, max_connections: int, idle_timeout: float) -> None:
        self.idle_timeout = idle_timeout
        self.slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            request.settimeout(self.idle_timeout)
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()
