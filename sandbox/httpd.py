"""The sandbox's HTTP plumbing: a threaded (optionally TLS) server and raw request helpers.

The ``Sandbox`` (``server.py``) answers each exchange; this module only moves the bytes.
"""

import logging
import socket
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_logger = logging.getLogger("kkm_sandbox")


class _StderrHandler(logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (test runners swap it between tests)."""

    def emit(self, record):
        self.stream = sys.stderr
        super().emit(record)


def enable_stderr_log():
    if not any(isinstance(handler, _StderrHandler) for handler in _logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s kkm-sandbox %(message)s"))
        _logger.addHandler(handler)
        _logger.setLevel(logging.INFO)
        _logger.propagate = False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests' sessions expect
    server_version = "kkm-sandbox/1.0"
    timeout = 30  # idle keep-alive connections are closed after this
    disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms stall

    def log_message(self, format, *args):
        """Silenced: ``Sandbox`` logs one line per exchange itself."""

    def _dispatch(self):
        self.server.app.serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    ssl_context = None
    app = None

    def get_request(self):
        connection, address = super().get_request()
        if self.ssl_context is not None:
            # The handshake runs in the request thread (finish_request), not in the accept loop.
            connection = self.ssl_context.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
        return connection, address

    def finish_request(self, request, client_address):
        if self.ssl_context is not None:
            try:
                request.settimeout(10)
                request.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                _logger.info("TLS handshake refused from %s: %s", client_address[0], exc.__class__.__name__)
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        # Clients that hang up mid-exchange are normal here (they are the test subjects).
        _logger.debug("connection error from %s: %s", client_address, sys.exc_info()[1])


def read_body(handler):
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    return handler.rfile.read(length) if length > 0 else b""


def write(handler, response):
    try:
        handler.send_response(response.status)
        handler.send_header("Content-Type", response.content_type)
        handler.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(response.body)
    except OSError:
        handler.close_connection = True


def hang_up(handler):
    """Hang up without a byte of answer (the request body was already read)."""
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
