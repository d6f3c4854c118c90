"""What the mail host's small servers (the lookup server, the auth policy server) share: an
address to name in the generated files, and serving in a background thread until stopped."""

from __future__ import annotations

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
