"""HTTP to a Docker daemon over its unix socket, for the bench's helper scripts."""

import http.client
import socket


class UnixConnection(http.client.HTTPConnection):
    """An HTTP/1.1 connection to the daemon listening on the unix socket at `path`."""

    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.path)
