"""One HTTP(S) exchange pinned to an address the SSRF guard already checked, under a deadline.

Pinning: the socket connects to the checked IP, never to a second DNS answer, so DNS rebinding
cannot send the request elsewhere; the URL's host still goes into the Host header and, for
https, into SNI and certificate verification. Deadline: every send and receive arms the
socket's timeout with the time left, so headers + body end by `deadline` however slowly a
server drips bytes (a per-read timeout alone lets 200 bytes every 0.5 s hold a fetch forever).
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time


class DeadlineExceeded(TimeoutError):
    pass


class _DeadlineSocket:
    """A connected socket whose every send/receive may only use the time left until `deadline`."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock, self.deadline = sock, deadline
        # As socket.socket does: http.client closes the connection as soon as it hands a response that
        # will close to its reader; the descriptor must live until that reader is closed too (closing it
        # at once made ~1 in 3 reads of a small local response fail with EBADF).
        self._io_refs, self._closed = 0, False

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("fetch deadline passed")
        self.sock.settimeout(left)

    def sendall(self, data) -> None:
        self._arm()
        self.sock.sendall(data)

    def recv_into(self, buffer, nbytes: int = 0) -> int:
        self._arm()
        return self.sock.recv_into(buffer, nbytes)

    def makefile(self, mode: str = "rb", *args, **kwargs) -> io.BufferedReader:
        self._io_refs += 1
        return io.BufferedReader(_SocketReader(self))

    def _reader_closed(self) -> None:
        self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self.sock.close()

    def close(self) -> None:
        self._closed = True
        if self._io_refs <= 0:
            self.sock.close()

    def __getattr__(self, name: str):
        return getattr(self.sock, name)


class _SocketReader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket):
        self.dsock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self.dsock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self.dsock._reader_closed()
        super().close()


def _connect(ip: str, port: int, deadline: float, connect_timeout: float) -> socket.socket:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("fetch deadline passed")
    return socket.create_connection((ip, port), timeout=min(connect_timeout, left))


class PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, ip: str, deadline: float, connect_timeout: float):
        super().__init__(host, port)
        self.ip, self.deadline, self.connect_timeout = ip, deadline, connect_timeout

    def connect(self) -> None:
        self.sock = _DeadlineSocket(_connect(self.ip, self.port, self.deadline, self.connect_timeout),
                                    self.deadline)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, ip: str, deadline: float, connect_timeout: float,
                 context: ssl.SSLContext | None = None):
        super().__init__(host, port, context=context or ssl.create_default_context())
        self.ip, self.deadline, self.connect_timeout = ip, deadline, connect_timeout

    def connect(self) -> None:
        raw = _connect(self.ip, self.port, self.deadline, self.connect_timeout)
        try:
            raw.settimeout(max(self.deadline - time.monotonic(), 0.001))  # the TLS handshake too
            tls = self._context.wrap_socket(raw, server_hostname=self.host)  # SNI + cert for the name
        except BaseException:
            raw.close()
            raise
        self.sock = _DeadlineSocket(tls, self.deadline)


def pinned_connection(scheme: str, host: str, port: int, ip: str, deadline: float,
                      connect_timeout: float) -> http.client.HTTPConnection:
    cls = PinnedHTTPSConnection if scheme == "https" else PinnedHTTPConnection
    return cls(host, port, ip, deadline, connect_timeout)
