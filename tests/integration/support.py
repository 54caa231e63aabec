"""Helpers for ringlet's integration tests (Python 3.11 standard library only).

- Server: a context manager that starts `ringlet serve` on an ephemeral 127.0.0.1 port, waits for
  the "listening on" log line, and on exit stops it with SIGTERM and checks it exits 0 (killing it
  if it does not). Every process started here is killed at interpreter exit as a last resort.
- Conn / exchange / read_all_responses: raw-socket HTTP/1.1 clients with bounded timeouts.
- curl(): runs the real curl binary with --max-time.
- build_fixture() / big_file(): the test sites and the 50 MiB file.

RINGLET_BIN names the server binary; NO_URING_BIN names the seccomp helper (tests/integration/no_uring.c).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

HOST = "127.0.0.1"
START_TIMEOUT = 5.0      # seconds to wait for the "listening on" line
STOP_TIMEOUT = 15.0      # seconds SIGTERM may take before we call it a failure
IO_TIMEOUT = 5.0         # default per-operation socket timeout

LISTEN_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


def ringlet_bin() -> str:
    path = os.environ.get("RINGLET_BIN") or os.path.join(REPO, "build", "release", "ringlet")
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"ringlet binary not found at {path} (set RINGLET_BIN)")
    return path


def no_uring_bin() -> str | None:
    path = os.environ.get("NO_URING_BIN")
    return path if path and os.access(path, os.X_OK) else None


def curl_bin() -> str:
    path = shutil.which("curl")
    if not path:
        raise unittest.SkipTest("curl not installed")
    return path


# ---------------------------------------------------------------------------------------------
# Process bookkeeping: nothing we start may outlive the test run.

_live: set[subprocess.Popen] = set()


def _kill_leftovers() -> None:
    for p in list(_live):
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
    _live.clear()


atexit.register(_kill_leftovers)


def _die_with_parent() -> None:
    """preexec_fn: SIGKILL the child if this test process dies (e.g. killed by a ctest timeout)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def run_ringlet(args: list[str], *, timeout: float = 10.0, prefix: list[str] | None = None
                ) -> subprocess.CompletedProcess:
    """Runs ringlet to completion (for startup-error tests); kills it if it outlives `timeout`."""
    cmd = (prefix or []) + [ringlet_bin()] + args
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors="replace",
                         preexec_fn=_die_with_parent)
    _live.add(p)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError(f"{cmd} did not exit within {timeout} s; stderr:\n{err}")
    finally:
        _live.discard(p)
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


class Server:
    """`with Server([(root, [hosts...]), ...], header_timeout=1) as srv:` ... srv.port ...

    sites: list of (root, hosts) pairs; the first is the default site.
    On exit the server gets SIGTERM and must exit 0 within STOP_TIMEOUT seconds (an
    AssertionError otherwise, unless the body of the with-block already raised)."""

    def __init__(self, sites, *, workers: int = 2, header_timeout: float | None = None,
                 keepalive_timeout: float | None = None, drain_timeout: float | None = None,
                 extra: list[str] | tuple = (), log_level: str | None = None):
        self.sites = [(str(root), list(hosts)) for root, hosts in sites]
        self.workers = workers
        self.header_timeout = header_timeout
        self.keepalive_timeout = keepalive_timeout
        self.drain_timeout = drain_timeout
        self.extra = list(extra)
        self.log_level = log_level
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.returncode: int | None = None
        self._dir: str | None = None
        self._log_path: str | None = None
        self._log_file = None
        self._saved_log: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def argv(self) -> list[str]:
        args = [ringlet_bin(), "serve"]
        for root, hosts in self.sites:
            args += ["--root", root]
            for h in hosts:
                args += ["--host", h]
        args += ["--http-listen", f"{HOST}:0", "--no-tls", "--workers", str(self.workers),
                 "--pidfile", self.pidfile]
        for flag, value in (("--header-timeout", self.header_timeout),
                            ("--keepalive-timeout", self.keepalive_timeout),
                            ("--drain-timeout", self.drain_timeout),
                            ("--log-level", self.log_level)):
            if value is not None:
                args += [flag, _fmt(value)]
        return args + self.extra

    # What start() waits for in the log; subclasses say what a started server of theirs logs.
    _waiting_for = "'listening on' line"

    def _ready(self, log: str) -> bool:
        """True once `log` shows the server started; sets the ports it learned."""
        m = LISTEN_RE.search(log)
        if m:
            self.port = int(m.group(1))
        return m is not None

    def start(self) -> "Server":
        self._dir = tempfile.mkdtemp(prefix="ringlet-srv-")
        self.pidfile = os.path.join(self._dir, "ringlet.pid")
        self._log_path = os.path.join(self._dir, "stderr.log")
        # stderr goes to a file, not a pipe: a full pipe would block the server.
        try:
            argv = self.argv()
            self._log_file = open(self._log_path, "wb")
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=self._log_file, stderr=self._log_file,
                                         preexec_fn=_die_with_parent)
        except BaseException:
            self._cleanup()
            raise
        _live.add(self.proc)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            log = self.log()
            if self._ready(log):
                return self
            if self.proc.poll() is not None:
                log = self.log()
                self._cleanup()
                raise AssertionError(f"ringlet exited with {self.proc.returncode} during "
                                     f"startup:\n{log}")
            if time.monotonic() > deadline:
                self.kill()
                log = self.log()
                self._cleanup()
                raise AssertionError(f"no {self._waiting_for} within {START_TIMEOUT} s:\n{log}")
            time.sleep(0.02)

    def signal(self, sig=signal.SIGTERM) -> None:
        assert self.proc is not None and self.proc.poll() is None, "server is not running"
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        """Waits up to `timeout` s for exit; returns the exit code or None if still running."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        _live.discard(self.proc)
        return self.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc is not None:
            self.returncode = self.proc.returncode
            _live.discard(self.proc)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then asserts exit code 0 within `timeout` s (kills the server if not)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.wait(timeout)
        if rc is None:
            self.kill()
            raise AssertionError(f"ringlet did not exit within {timeout} s of SIGTERM; "
                                 f"log:\n{self.log()}")
        if rc != 0:
            raise AssertionError(f"ringlet exited with {rc} (want 0) after SIGTERM; "
                                 f"log:\n{self.log()}")
        return rc

    def log(self) -> str:
        if self._saved_log is not None:
            return self._saved_log
        if not self._log_path:
            return ""
        try:
            with open(self._log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern: str, timeout: float = 5.0) -> re.Match:
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.log())
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"log never matched {pattern!r} within {timeout} s:\n"
                                     f"{self.log()}")
            time.sleep(0.02)

    def _cleanup(self) -> None:
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        if self._dir:
            self._saved_log = self.log()
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        try:
            if self.proc.poll() is None:
                self.stop()
            elif self.returncode is None:
                self.returncode = self.proc.returncode
                raise AssertionError(f"ringlet died unexpectedly with {self.returncode}:\n"
                                     f"{self.log()}")
            # Otherwise the caller already saw the exit through wait()/stop() and judged it.
        except AssertionError:
            if exc_type is None:
                raise
        finally:
            self.kill()
            self._cleanup()
        return False

    def url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self.port}{path}"


def _fmt(v) -> str:
    if isinstance(v, (int, float)):
        return str(int(v)) if float(v).is_integer() else str(v)
    return str(v)


# ---------------------------------------------------------------------------------------------
# Raw-socket HTTP/1.1 client.

class Response:
    def __init__(self, status: int, reason: str, version: str, headers: list[tuple[str, str]],
                 body: bytes, raw_head: bytes):
        self.status = status
        self.reason = reason
        self.version = version
        self.header_list = headers
        self.body = body
        self.raw_head = raw_head

    def header(self, name: str, default=None):
        """The value of the last field `name` (case-insensitive), or default."""
        name = name.lower()
        found = default
        for k, v in self.header_list:
            if k.lower() == name:
                found = v
        return found

    def headers_named(self, name: str) -> list[str]:
        return [v for k, v in self.header_list if k.lower() == name.lower()]

    @property
    def headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.header_list}

    def __repr__(self) -> str:
        return (f"<Response {self.status} {self.reason!r} headers={self.header_list!r} "
                f"body[{len(self.body)}]={self.body[:120]!r}>")


class ConnectionClosed(Exception):
    """The peer closed (or reset) the connection before a complete response arrived."""


class Conn:
    """One TCP connection with a read buffer, so several responses can be read in turn."""

    def __init__(self, port: int, timeout: float = IO_TIMEOUT, host: str = HOST):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Conn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        """Reads more bytes into buf; False on EOF. Raises TimeoutError past the deadline."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out waiting for the server")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise TimeoutError("timed out waiting for the server") from None
        except ConnectionResetError:
            self.eof = True
            return False
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def read_response(self, *, head: bool = False, timeout: float | None = None,
                      max_body: int = 256 << 20) -> Response:
        """Reads one complete response. `head` says the request was HEAD (no body follows)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buf) > 1 << 20:
                raise AssertionError("response head larger than 1 MiB")
            if not self._fill(deadline):
                raise ConnectionClosed(f"connection closed before a response head; got "
                                       f"{bytes(self.buf[:200])!r}")
        raw_head = bytes(self.buf[:end])
        del self.buf[:end + 4]
        lines = raw_head.decode("latin-1").split("\r\n")
        m = re.fullmatch(r"(HTTP/\d\.\d) (\d{3}) ?(.*)", lines[0])
        if not m:
            raise AssertionError(f"bad status line {lines[0]!r}")
        version, status, reason = m.group(1), int(m.group(2)), m.group(3)
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise AssertionError(f"malformed response header line {line!r}")
            headers.append((name, value.strip(" \t")))
        resp = Response(status, reason, version, headers, b"", raw_head)
        if 100 <= status < 200:
            raise AssertionError(f"unexpected interim response {status}")
        if head or status in (204, 304):
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te is not None and "chunked" in te.lower():
            resp.body = self._read_chunked(deadline)
        elif cl is not None:
            n = int(cl)
            if n > max_body:
                raise AssertionError(f"Content-Length {n} exceeds max_body {max_body}")
            while len(self.buf) < n:
                if not self._fill(deadline):
                    raise ConnectionClosed(f"connection closed after {len(self.buf)} of {n} "
                                           f"body bytes")
            resp.body = bytes(self.buf[:n])
            del self.buf[:n]
        else:
            while self._fill(deadline):
                pass
            resp.body = bytes(self.buf)
            self.buf.clear()
        return resp

    def _read_chunked(self, deadline: float) -> bytes:
        body = bytearray()
        while True:
            while b"\r\n" not in self.buf:
                if not self._fill(deadline):
                    raise ConnectionClosed("closed inside chunked body")
            line, _, rest = bytes(self.buf).partition(b"\r\n")
            self.buf[:] = rest
            size = int(line.split(b";")[0], 16)
            while len(self.buf) < size + 2:
                if not self._fill(deadline):
                    raise ConnectionClosed("closed inside chunk")
            body += self.buf[:size]
            del self.buf[:size + 2]
            if size == 0:
                # Optional trailer fields end with an empty line.
                while True:
                    if self.buf.startswith(b"\r\n"):
                        del self.buf[:2]
                        return bytes(body)
                    end = self.buf.find(b"\r\n\r\n")
                    if end >= 0:
                        del self.buf[:end + 4]
                        return bytes(body)
                    if not self._fill(deadline):
                        return bytes(body)

    def read_exact(self, n: int, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise ConnectionClosed(f"closed after {len(self.buf)} of {n} bytes")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_until_close(self, timeout: float) -> bytes:
        """Everything the server sends until it closes; AssertionError if it stays open."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
        except TimeoutError:
            raise AssertionError(f"server did not close within {timeout} s") from None
        data = bytes(self.buf)
        self.buf.clear()
        return data

    def wait_closed(self, timeout: float) -> bool:
        """True if the server closes within `timeout` s (extra bytes are an error)."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
        except TimeoutError:
            return False
        if self.buf:
            raise AssertionError(f"unexpected bytes before close: {bytes(self.buf[:200])!r}")
        return True

    def is_open(self, wait: float = 0.2) -> bool:
        """True if the connection is still open after `wait` s with nothing to read."""
        return not self.wait_closed(wait)

    def readable(self, timeout: float) -> bool:
        if self.buf or self.eof:
            return True
        r, _, _ = select.select([self.sock], [], [], timeout)
        return bool(r)


def request_bytes(path: str = "/", *, method: str = "GET", host: str | None = "localhost",
                  headers: list[tuple[str, str]] | dict | None = None,
                  version: str = "HTTP/1.1") -> bytes:
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    for k, v in items:
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def exchange(port: int, data: bytes | str, *, head: bool = False,
             timeout: float = IO_TIMEOUT) -> Response:
    """Sends `data` on a fresh connection and returns the first complete response."""
    with Conn(port, timeout) as c:
        c.send(data)
        return c.read_response(head=head, timeout=timeout)


def get(port: int, path: str = "/", *, method: str = "GET", host: str | None = "localhost",
        headers=None, version: str = "HTTP/1.1", timeout: float = IO_TIMEOUT) -> Response:
    """One request on a fresh connection (with Connection: close unless headers say otherwise)."""
    hdrs = list(headers.items() if isinstance(headers, dict) else (headers or []))
    if not any(k.lower() == "connection" for k, _ in hdrs):
        hdrs.append(("Connection", "close"))
    data = request_bytes(path, method=method, host=host, headers=hdrs, version=version)
    return exchange(port, data, head=(method == "HEAD"), timeout=timeout)


def read_all_responses(port: int, data: bytes | str, *, heads: list[bool] | None = None,
                       timeout: float = IO_TIMEOUT) -> tuple[list[Response], bytes]:
    """Sends `data`, then reads responses until the server closes the connection.

    heads[i] says whether response i answers a HEAD. Returns (responses, trailing bytes)."""
    deadline = time.monotonic() + timeout
    out: list[Response] = []
    with Conn(port, timeout) as c:
        c.send(data)
        while True:
            if not c.buf:
                try:
                    if not c._fill(deadline):
                        break
                except TimeoutError:
                    raise AssertionError(f"server did not close within {timeout} s; got "
                                         f"{len(out)} responses") from None
            i = len(out)
            head = bool(heads and i < len(heads) and heads[i])
            try:
                out.append(c.read_response(head=head,
                                           timeout=max(0.01, deadline - time.monotonic())))
            except ConnectionClosed:
                break
        return out, bytes(c.buf)


# ---------------------------------------------------------------------------------------------
# curl

class CurlResult:
    def __init__(self, returncode: int, status: int, headers: list[tuple[str, str]],
                 body: bytes, stderr: str, all_heads: list[list[tuple[str, str]]]):
        self.returncode = returncode
        self.status = status
        self.header_list = headers
        self.body = body
        self.stderr = stderr
        self.all_heads = all_heads

    def header(self, name: str, default=None):
        name = name.lower()
        found = default
        for k, v in self.header_list:
            if k.lower() == name:
                found = v
        return found

    def __repr__(self) -> str:
        return (f"<CurlResult rc={self.returncode} status={self.status} "
                f"headers={self.header_list!r} body[{len(self.body)}] stderr={self.stderr[-500:]!r}>")


def curl(*args: str, max_time: float = 20.0, output: str | None = None,
         headers: dict | list | None = None, verbose: bool = False) -> CurlResult:
    """Runs curl with the given URL(s)/options. The body goes to `output` if given (then
    .body is b""), else is captured. Headers of the last response are parsed from -D."""
    with tempfile.TemporaryDirectory(prefix="ringlet-curl-") as td:
        hdr_file = os.path.join(td, "headers")
        cmd = [curl_bin(), "-sS", "--noproxy", "*", "--max-time", _fmt(max_time),
               "-D", hdr_file, "-w", "%{http_code}\\n"]
        if verbose:
            cmd.append("-v")
        items = headers.items() if isinstance(headers, dict) else (headers or [])
        for k, v in items:
            cmd += ["-H", f"{k}: {v}"]
        body_file = output or os.path.join(td, "body")
        cmd += ["-o", body_file]
        cmd += list(args)
        env = dict(os.environ)
        for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "CURL_HOME"):
            env.pop(var, None)
        env["HOME"] = td  # no ~/.curlrc
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=max_time + 10, env=env)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"curl hung beyond --max-time: {cmd}") from e
        codes = p.stdout.decode().split()
        status = int(codes[-1]) if codes else 0
        heads: list[list[tuple[str, str]]] = []
        if os.path.exists(hdr_file):
            with open(hdr_file, "rb") as f:
                text = f.read().decode("latin-1")
            for block in re.split(r"\r?\n\r?\n", text):
                lines = [ln for ln in block.splitlines() if ln]
                if not lines or not lines[0].startswith("HTTP/"):
                    continue
                heads.append([(k.strip(), v.strip()) for k, _, v in
                              (ln.partition(":") for ln in lines[1:])])
        body = b""
        if output is None and os.path.exists(body_file):
            with open(body_file, "rb") as f:
                body = f.read()
        return CurlResult(p.returncode, status, heads[-1] if heads else [], body,
                          p.stderr.decode("utf-8", "replace"), heads)


# ---------------------------------------------------------------------------------------------
# Fixtures

def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


CANARY = b"CANARY-outside-the-root-7f3a9c1e\n"
PASSWD_MARK = b"root:"


class Fixture:
    """Two sites under one temp dir:

        base/outside/secret.txt     canary, outside both roots (next to them)
        base/root/                  site A (has 404.html)
        base/root2/                 site B (no 404.html)
    """

    def __init__(self, base: str):
        self.base = base
        self.root = os.path.join(base, "root")
        self.root2 = os.path.join(base, "root2")
        self.outside = os.path.join(base, "outside")
        self.files: dict[str, bytes] = {}

    def path(self, rel: str, root: str | None = None) -> str:
        return os.path.join(root or self.root, rel.lstrip("/"))

    def write(self, rel: str, data: bytes, root: str | None = None) -> str:
        p = self.path(rel, root)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        if root in (None, self.root):
            self.files["/" + rel.lstrip("/")] = data
        return p


def build_fixture(base: str) -> Fixture:
    fx = Fixture(base)
    os.makedirs(fx.outside)
    with open(os.path.join(fx.outside, "secret.txt"), "wb") as f:
        f.write(CANARY)
    # A file named like the root's own files but outside it, to catch "../root2"-style escapes.
    w = fx.write
    w("index.html", b"<!doctype html><title>site A</title><p>SITE-A-INDEX</p>\n")
    w("1k.bin", bytes((i * 7 + 3) % 256 for i in range(1024)))
    w("dir/index.html", b"<p>DIR-INDEX</p>\n")
    w("dir/page.html", b"<p>DIR-PAGE</p>\n")
    w("noindex/file.txt", b"a file in a folder without index.html\n")
    w("404.html", b"<!doctype html><p>CUSTOM-404-PAGE-A</p>\n")
    w(".git/config", b"[core]\n\tGIT-CONFIG-SECRET = 1\n")
    w(".env", b"DOTENV_SECRET=hunter2\n")
    w("style.css", b"body { color: red }\n")
    w("app.js", b"console.log('js');\n")
    w("img.png", b"\x89PNG\r\n\x1a\n" + bytes(range(64)))
    w("data.json", b'{"ok": true}\n')
    w("blob.zzunknown", b"mystery bytes\n")
    w("comp.txt", b"IDENTITY " * 200)
    w("comp.txt.gz", b"\x1f\x8b-fake-gzip-sidecar-bytes-GZ")
    w("comp.txt.br", b"fake-brotli-sidecar-bytes-BR!")
    w("mutable.txt", b"version-1\n")
    os.symlink("index.html", fx.path("link-inside.html"))
    os.symlink("dir", fx.path("linkdir"))
    os.symlink("/etc/passwd", fx.path("passwd-link"))
    os.symlink(os.path.join("..", "outside", "secret.txt"), fx.path("escape-link.txt"))
    os.symlink(os.path.join("..", "outside"), fx.path("escape-dir"))
    # Site B: no 404.html.
    w("index.html", b"<!doctype html><title>site B</title><p>SITE-B-INDEX</p>\n", root=fx.root2)
    w("only-b.txt", b"only in site B\n", root=fx.root2)
    return fx


_big: dict[str, str] = {}
BIG_SIZE = 50 * 1024 * 1024


def big_file(root: str) -> tuple[str, str]:
    """Creates root/big.bin (50 MiB of random bytes) and returns (path, sha256 hex)."""
    path = os.path.join(root, "big.bin")
    h = hashlib.sha256()
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        for i in range(BIG_SIZE >> 20):
            # A counter in every block keeps each MiB distinct, so misplaced blocks are caught.
            b = i.to_bytes(8, "little") + block[8:]
            f.write(b)
            h.update(b)
    return path, h.hexdigest()


def read_slice(path: str, start: int, length: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(start)
        return f.read(length)


class FixtureTestCase(unittest.TestCase):
    """Builds a fixture in a unique temp dir per class and starts one server for the class.

    Subclasses set SERVER_KW (keyword arguments for Server) and may override sites()."""

    SERVER_KW: dict = {}
    fx: Fixture
    srv: Server
    port: int

    @classmethod
    def sites(cls, fx: Fixture):
        return [(fx.root, ["a.test", "www.a.test"]), (fx.root2, ["b.test"])]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tmp = tempfile.TemporaryDirectory(prefix="ringlet-it-")
        cls.addClassCleanup(tmp.cleanup)
        cls.fx = build_fixture(tmp.name)
        cls.prepare(cls.fx)
        cls.srv = cls.enterClassContext(Server(cls.sites(cls.fx), **cls.SERVER_KW))
        cls.port = cls.srv.port

    @classmethod
    def prepare(cls, fx: Fixture) -> None:
        """Hook for extra fixture files before the server starts."""


def wait_until(pred, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            return v
        time.sleep(interval)


# =============================================================================================
# TLS helpers (test_tls_*.py). Everything below is additive: the plain-HTTP helpers above are
# unchanged.
#
# - openssl() / make_pki(): a throw-away PKI made with the real openssl CLI (root CA ->
#   intermediate -> leaves; chain files hold leaf + intermediate).
# - TlsServer: `ringlet serve` with TLS on (HTTPS and the redirecting HTTP listener, both on
#   ephemeral ports) and a private --storage.
# - s_client(): runs `openssl s_client`; ssl_context() / tls_get(): Python's ssl module as client.
# - client_hello(): a hand-built ClientHello record, for feeding malformed variants to the server.

import ssl
import struct

TLS_LISTEN_RE = re.compile(r"listening on https://127\.0\.0\.1:(\d+)")
TLS_REDIRECT_RE = re.compile(r"redirecting http://127\.0\.0\.1:(\d+) to https")


def openssl_bin() -> str:
    path = shutil.which("openssl")
    if not path:
        raise unittest.SkipTest("openssl CLI not installed")
    return path


def openssl(*args: str, cwd: str | None = None, input: bytes | None = None,
            timeout: float = 20.0, check: bool = True) -> subprocess.CompletedProcess:
    """Runs `openssl ARGS...`; with check, raises AssertionError (with stderr) on failure."""
    cmd = [openssl_bin()] + list(args)
    env = dict(os.environ)
    env.pop("OPENSSL_CONF", None)
    p = subprocess.run(cmd, cwd=cwd, input=input, capture_output=True, timeout=timeout, env=env,
                       stdin=None if input is not None else subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} failed with {p.returncode}:\n"
                             f"{p.stderr.decode('utf-8', 'replace')}")
    return p


class Leaf:
    """One leaf certificate: .cert (leaf only), .key, .chain (leaf + intermediate)."""

    def __init__(self, name: str, cert: str, key: str, chain: str):
        self.name, self.cert, self.key, self.chain = name, cert, key, chain

    def __repr__(self) -> str:
        return f"<Leaf {self.name} {self.chain}>"


class Pki:
    """Files of a test PKI under `base` (see make_pki)."""

    def __init__(self, base: str):
        self.base = base
        self.root = os.path.join(base, "root.crt")
        self.root_key = os.path.join(base, "root.key")
        self.inter = os.path.join(base, "inter.crt")
        self.inter_key = os.path.join(base, "inter.key")
        self.leaves: dict[str, Leaf] = {}

    def __getitem__(self, name: str) -> Leaf:
        return self.leaves[name]

    # -- building blocks ---------------------------------------------------------------------
    def _key(self, path: str, kind: str) -> None:
        if kind == "rsa":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", path)
        else:
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-pkeyopt", "ec_param_enc:named_curve", "-out", path)

    def _ext(self, name: str, lines: list[str]) -> str:
        path = os.path.join(self.base, name + ".ext")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    @staticmethod
    def leaf_ext_lines(names: list[str], kind: str) -> list[str]:
        usage = "digitalSignature,keyEncipherment" if kind == "rsa" else "digitalSignature"
        return ["basicConstraints=critical,CA:FALSE",
                f"keyUsage=critical,{usage}",
                "extendedKeyUsage=serverAuth",
                "subjectKeyIdentifier=hash",
                "authorityKeyIdentifier=keyid",
                "subjectAltName=" + ",".join(f"DNS:{n}" for n in names)]

    def make_ca(self) -> None:
        self._key(self.root_key, "ec")
        openssl("req", "-x509", "-new", "-key", self.root_key, "-sha256", "-days", "30",
                "-subj", "/O=ringlet tests/CN=ringlet test root CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-out", self.root)
        self._key(self.inter_key, "ec")
        csr = os.path.join(self.base, "inter.csr")
        openssl("req", "-new", "-key", self.inter_key, "-subj",
                "/O=ringlet tests/CN=ringlet test intermediate CA", "-out", csr)
        ext = self._ext("inter", ["basicConstraints=critical,CA:TRUE,pathlen:0",
                                  "keyUsage=critical,keyCertSign,cRLSign",
                                  "subjectKeyIdentifier=hash",
                                  "authorityKeyIdentifier=keyid"])
        openssl("x509", "-req", "-in", csr, "-CA", self.root, "-CAkey", self.root_key,
                "-set_serial", "0x" + os.urandom(8).hex(), "-days", "30", "-sha256",
                "-extfile", ext, "-out", self.inter)

    def _csr(self, label: str, cn: str, kind: str) -> tuple[str, str]:
        key = os.path.join(self.base, f"{label}.key")
        csr = os.path.join(self.base, f"{label}.csr")
        self._key(key, kind)
        openssl("req", "-new", "-key", key, "-subj", f"/CN={cn}", "-out", csr)
        return key, csr

    def _finish(self, label: str, cn: str, cert: str, key: str) -> Leaf:
        chain = os.path.join(self.base, f"{label}.chain.pem")
        with open(chain, "wb") as out:
            for part in (cert, self.inter):
                with open(part, "rb") as f:
                    out.write(f.read())
        leaf = Leaf(cn, cert, key, chain)
        self.leaves[label] = leaf
        return leaf

    def issue(self, label: str, names: list[str], kind: str = "ec", days: int = 30) -> Leaf:
        """A leaf for `names` (the first is the CN), signed by the intermediate."""
        key, csr = self._csr(label, names[0], kind)
        cert = os.path.join(self.base, f"{label}.crt")
        ext = self._ext(label, self.leaf_ext_lines(names, kind))
        openssl("x509", "-req", "-in", csr, "-CA", self.inter, "-CAkey", self.inter_key,
                "-set_serial", "0x" + os.urandom(8).hex(), "-days", str(days), "-sha256",
                "-extfile", ext, "-out", cert)
        return self._finish(label, names[0], cert, key)

    def issue_dated(self, label: str, names: list[str], start: str, end: str,
                    kind: str = "ec") -> Leaf:
        """A leaf with an explicit validity window (YYYYMMDDHHMMSSZ), made with `openssl ca`
        because OpenSSL 3.0's `x509 -req` cannot set notBefore."""
        key, csr = self._csr(label, names[0], kind)
        cadir = os.path.join(self.base, f"ca-{label}")
        os.makedirs(os.path.join(cadir, "new"))
        open(os.path.join(cadir, "index.txt"), "w").close()
        with open(os.path.join(cadir, "serial"), "w") as f:
            f.write(os.urandom(8).hex() + "\n")
        cfg = os.path.join(cadir, "ca.cnf")
        with open(cfg, "w") as f:
            f.write(f"""[ca]
default_ca = test_ca
[test_ca]
dir = {cadir}
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
default_md = sha256
policy = any_policy
unique_subject = no
copy_extensions = none
email_in_dn = no
[any_policy]
commonName = supplied
[leaf_ext]
""" + "\n".join(self.leaf_ext_lines(names, kind)) + "\n")
        cert = os.path.join(self.base, f"{label}.crt")
        openssl("ca", "-batch", "-notext", "-config", cfg, "-cert", self.inter, "-keyfile",
                self.inter_key, "-in", csr, "-out", cert, "-startdate", start, "-enddate", end,
                "-extensions", "leaf_ext")
        return self._finish(label, names[0], cert, key)


def make_pki(base: str) -> Pki:
    """Root CA -> intermediate CA -> leaves (ECDSA P-256 unless noted):
         a        a.test, www.a.test
         b        b.test                (RSA-2048)
         wild     *.example.test
    """
    os.makedirs(base, exist_ok=True)
    pki = Pki(base)
    pki.make_ca()
    pki.issue("a", ["a.test", "www.a.test"])
    pki.issue("b", ["b.test"], kind="rsa")
    pki.issue("wild", ["*.example.test"])
    return pki


def pem_blocks(text: str | bytes) -> list[str]:
    """The PEM CERTIFICATE blocks in `text`, in order."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return re.findall(r"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----", text,
                      re.S)


def cert_field(pem: str, *opts: str) -> str:
    """`openssl x509 -noout OPTS` on one PEM certificate, e.g. cert_field(p, "-subject")."""
    p = openssl("x509", "-noout", "-nameopt", "RFC2253", *opts, input=pem.encode())
    return p.stdout.decode().strip()


def cert_cn(pem: str) -> str:
    m = re.search(r"CN=([^,]+)", cert_field(pem, "-subject"))
    return m.group(1) if m else ""


class TlsServer(Server):
    """`ringlet serve` with TLS: `with TlsServer([(root, hosts, leaf_or_None), ...],
    storage=dir) as srv:` ... srv.port (HTTPS), srv.http_port (the redirecting listener).

    A site's third element is a Leaf (or a (cert, key) pair) for --cert/--key, or None for an
    internal-CA certificate. `storage` defaults to a fresh temp dir (never the user's)."""

    def __init__(self, sites, *, storage: str | None = None, workers: int = 2, **kw):
        plain = [(s[0], s[1]) for s in sites]
        super().__init__(plain, workers=workers, **kw)
        self.certs = []
        for s in sites:
            c = s[2] if len(s) > 2 else None
            if isinstance(c, Leaf):
                c = (c.chain, c.key)
            self.certs.append(c)
        self.storage = storage
        self.http_port: int | None = None
        self._own_storage: str | None = None

    def argv(self) -> list[str]:
        args = [ringlet_bin(), "serve"]
        for (root, hosts), cert in zip(self.sites, self.certs):
            args += ["--root", root]
            for h in hosts:
                args += ["--host", h]
            if cert is not None:
                args += ["--cert", cert[0], "--key", cert[1]]
        args += ["--listen", f"{HOST}:0", "--http-listen", f"{HOST}:0",
                 "--storage", self.storage, "--workers", str(self.workers),
                 "--pidfile", self.pidfile]
        for flag, value in (("--header-timeout", self.header_timeout),
                            ("--keepalive-timeout", self.keepalive_timeout),
                            ("--drain-timeout", self.drain_timeout),
                            ("--log-level", self.log_level)):
            if value is not None:
                args += [flag, _fmt(value)]
        return args + self.extra

    _waiting_for = "'listening on https://' and 'redirecting' lines"

    def _ready(self, log: str) -> bool:
        m, r = TLS_LISTEN_RE.search(log), TLS_REDIRECT_RE.search(log)
        if m and r:
            self.port = int(m.group(1))
            self.http_port = int(r.group(1))
        return bool(m and r)

    def start(self) -> "TlsServer":
        if self.storage is None:
            self._own_storage = tempfile.mkdtemp(prefix="ringlet-storage-")
            self.storage = os.path.join(self._own_storage, "storage")
        return super().start()

    def _cleanup(self) -> None:
        super()._cleanup()
        if self._own_storage:
            shutil.rmtree(self._own_storage, ignore_errors=True)
            self._own_storage = None

    def url(self, path: str = "/", host: str = HOST) -> str:
        return f"https://{host}:{self.port}{path}"

    def http_url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self.http_port}{path}"


class SClient:
    def __init__(self, p: subprocess.CompletedProcess):
        self.returncode = p.returncode
        self.stdout = p.stdout.decode("utf-8", "replace")
        self.stderr = p.stderr.decode("utf-8", "replace")
        self.out = self.stdout + self.stderr

    @property
    def certs(self) -> list[str]:
        return pem_blocks(self.stdout)

    @property
    def leaf_cn(self) -> str:
        certs = self.certs
        return cert_cn(certs[0]) if certs else ""

    @property
    def reused(self) -> bool:
        return bool(re.search(r"^Reused,", self.stdout, re.M))

    @property
    def new(self) -> bool:
        return bool(re.search(r"^New,", self.stdout, re.M))

    def field(self, rx: str) -> str | None:
        m = re.search(rx, self.out, re.M)
        return m.group(1) if m else None

    @property
    def protocol(self) -> str | None:
        return self.field(r"^(?:New|Reused), (TLSv1\.\d)")

    @property
    def alpn(self) -> str | None:
        return self.field(r"^ALPN protocol: (.+)$")

    def __repr__(self) -> str:
        return f"<SClient rc={self.returncode}\n{self.out[-3000:]}>"


def s_client(port: int, *args: str, send: bytes | None = None, timeout: float = 15.0
             ) -> SClient:
    """`openssl s_client -connect 127.0.0.1:PORT ARGS...`. With `send`, writes it after the
    handshake and waits for the server to close (-ign_eof), so e.g. TLS 1.3 session tickets that
    follow the handshake are received; without it, stdin is empty and s_client quits right after
    the handshake."""
    cmd = ["s_client", "-connect", f"{HOST}:{port}"] + list(args)
    if send is not None:
        cmd.append("-ign_eof")
    p = openssl(*cmd, input=send if send is not None else b"", timeout=timeout, check=False)
    return SClient(p)


def ssl_context(cafile: str, *, alpn: list[str] | None = ("http/1.1",),
                min_version=None, max_version=None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


class TlsConn(Conn):
    """Conn over TLS (Python's ssl module): .sock is the SSLSocket after a verified handshake."""

    def __init__(self, port: int, ctx: ssl.SSLContext, server_hostname: str | None,
                 timeout: float = IO_TIMEOUT, host: str = HOST, session=None):
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname=server_hostname, session=session)
        except BaseException:
            raw.close()
            raise
        # Handshake results, kept so they can be checked after close().
        self.version = self.sock.version()
        self.alpn = self.sock.selected_alpn_protocol()
        self.cipher = self.sock.cipher()
        self.peer_cert = self.sock.getpeercert()
        self.session = None
        self.session_reused = self.sock.session_reused
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False

    def close(self) -> None:
        if self.sock.fileno() >= 0:
            self.session = self.sock.session  # TLS 1.3 tickets arrive after the handshake
        self.sock.close()

    def _fill(self, deadline: float) -> bool:
        try:
            return super()._fill(deadline)
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            self.eof = True
            return False


def tls_get(port: int, path: str, ctx: ssl.SSLContext, server_hostname: str, *,
            host: str | None = None, timeout: float = IO_TIMEOUT, session=None) -> tuple[Response, TlsConn]:
    """GET over a fresh TLS connection (Connection: close). Returns (response, closed conn) so
    the caller can still look at conn.version, .alpn, .session etc."""
    c = TlsConn(port, ctx, server_hostname, timeout, session=session)
    try:
        c.send(request_bytes(path, host=host or server_hostname,
                             headers={"Connection": "close"}))
        r = c.read_response(timeout=timeout)
    finally:
        c.close()
    return r, c


# ---------------------------------------------------------------------------------------------
# Hand-built ClientHello records.

def _u8(b: bytes) -> bytes:
    return bytes([len(b)]) + b


def _u16(b: bytes) -> bytes:
    return struct.pack(">H", len(b)) + b


def _u24(n: int) -> bytes:
    return n.to_bytes(3, "big")


def ext(ext_type: int, data: bytes) -> bytes:
    return struct.pack(">H", ext_type) + _u16(data)


def ext_sni(name: str | bytes) -> bytes:
    if isinstance(name, str):
        name = name.encode()
    return ext(0, _u16(b"\x00" + _u16(name)))


def ext_alpn(names: list[bytes]) -> bytes:
    return ext(16, _u16(b"".join(_u8(n) for n in names)))


# TLS 1.3 + TLS 1.2 ECDHE-ECDSA/RSA AES-GCM suites.
DEFAULT_SUITES = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030]


def client_hello_body(*, sni: str | bytes | None = "a.test", alpn: list[bytes] | None = None,
                      extensions: list[bytes] | None = None, extra: list[bytes] = (),
                      legacy_version: int = 0x0303, suites: list[int] = DEFAULT_SUITES,
                      pad_to: int = 0) -> bytes:
    """A TLS 1.3-capable ClientHello body (without the 4-byte handshake header). `extensions`
    replaces the default list entirely; `extra` is appended to it. `pad_to` adds a padding
    extension (21) so the body is at least that long."""
    if extensions is None:
        extensions = []
        if sni is not None:
            extensions.append(ext_sni(sni))
        extensions += [
            ext(10, _u16(struct.pack(">HH", 0x001D, 0x0017))),           # supported_groups
            ext(11, _u8(b"\x00")),                                       # ec_point_formats
            ext(13, _u16(struct.pack(">HHHH", 0x0403, 0x0804, 0x0401, 0x0503))),  # sig algs
            ext(43, _u8(struct.pack(">HH", 0x0304, 0x0303))),            # supported_versions
            ext(51, _u16(struct.pack(">H", 0x001D) + _u16(os.urandom(32)))),  # key_share x25519
        ]
        if alpn is not None:
            extensions.append(ext_alpn(alpn))
    extensions = list(extensions) + list(extra)
    def assemble(exts):
        return (struct.pack(">H", legacy_version) + os.urandom(32) + _u8(os.urandom(32))
                + _u16(b"".join(struct.pack(">H", s) for s in suites)) + _u8(b"\x00")
                + _u16(b"".join(exts)))
    body = assemble(extensions)
    if pad_to and len(body) < pad_to:
        need = pad_to - len(body) - 4
        body = assemble(extensions + [ext(21, b"\x00" * max(0, need))])
    return body


def handshake(msg_type: int, body: bytes, declared_len: int | None = None) -> bytes:
    return bytes([msg_type]) + _u24(len(body) if declared_len is None else declared_len) + body


def records(payload: bytes, *, content_type: int = 22, version: int = 0x0301,
            max_fragment: int = 16384) -> bytes:
    """`payload` split into TLS records of at most max_fragment bytes."""
    out = bytearray()
    for i in range(0, len(payload), max_fragment):
        frag = payload[i:i + max_fragment]
        out += struct.pack(">BHH", content_type, version, len(frag)) + frag
    return bytes(out)


def client_hello(**kw) -> bytes:
    """A complete ClientHello record (see client_hello_body for the options)."""
    return records(handshake(1, client_hello_body(**kw)))


def alert_record(description: int) -> bytes:
    """A fatal TLS alert record as ringlet sends it before a version is chosen."""
    return bytes([21, 3, 3, 0, 2, 2, description])


WILD_BODY = b"<p>WILDCARD-SITE-INDEX</p>\n"


class TlsFixtureTestCase(unittest.TestCase):
    """Per class: a temp dir with a fresh PKI (make_pki), the usual fixture and a third root for
    the wildcard site, and one TlsServer:

        site 1 (default)  fx.root   a.test, www.a.test   pki["a"]    ECDSA P-256
        site 2            fx.root2  b.test               pki["b"]    RSA-2048
        site 3            root3     *.example.test       pki["wild"] ECDSA P-256
    """

    SERVER_KW: dict = {}
    tmp: str
    pki: Pki
    fx: Fixture
    root3: str
    srv: TlsServer
    port: int

    @classmethod
    def sites(cls):
        return [(cls.fx.root, ["a.test", "www.a.test"], cls.pki["a"]),
                (cls.fx.root2, ["b.test"], cls.pki["b"]),
                (cls.root3, ["*.example.test"], cls.pki["wild"])]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tmp = tempfile.TemporaryDirectory(prefix="ringlet-tls-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = tmp.name
        cls.pki = make_pki(os.path.join(tmp.name, "pki"))
        cls.fx = build_fixture(os.path.join(tmp.name, "fx"))
        cls.root3 = os.path.join(tmp.name, "root3")
        os.makedirs(cls.root3)
        with open(os.path.join(cls.root3, "index.html"), "wb") as f:
            f.write(WILD_BODY)
        cls.prepare()
        kw = dict(cls.SERVER_KW)
        kw.setdefault("storage", os.path.join(tmp.name, "storage"))
        cls.srv = cls.enterClassContext(TlsServer(cls.sites(), **kw))
        cls.port = cls.srv.port

    @classmethod
    def prepare(cls) -> None:
        """Hook for extra fixture files before the server starts."""

    def resolve(self, *hosts: str) -> list[str]:
        args = []
        for h in hosts:
            args += ["--resolve", f"{h}:{self.port}:{HOST}"]
        return args

    def curl_https(self, path: str = "/", *args: str, host: str = "a.test",
                   cacert: str | None = None, **kw) -> CurlResult:
        """curl https://HOST:PORT/PATH with --cacert (the test root) and --resolve."""
        return curl(*self.resolve(host), "--cacert", cacert or self.pki.root, *args,
                    f"https://{host}:{self.port}{path}", **kw)

    def ssl_ctx(self, **kw) -> ssl.SSLContext:
        return ssl_context(self.pki.root, **kw)

    def site_file(self, host: str, path: str) -> bytes:
        """The bytes of `path` in the site serving `host` (per sites() above)."""
        root = {"a.test": self.fx.root, "www.a.test": self.fx.root,
                "b.test": self.fx.root2}.get(host, self.root3 if host.endswith(".example.test")
                                             else self.fx.root)
        with open(os.path.join(root, path.lstrip("/")), "rb") as f:
            return f.read()

    def assert_serving(self, host: str = "a.test", path: str = "/index.html") -> None:
        """A normal HTTPS request (Python ssl client) still gets the right file."""
        self.assertIsNone(self.srv.proc.poll(), f"server exited:\n{self.srv.log()}")
        r, _ = tls_get(self.port, path, self.ssl_ctx(), host)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.site_file(host, path))


def curl_raw(*args: str, max_time: float = 20.0) -> subprocess.CompletedProcess:
    """curl -sS ARGS with the same hygiene as curl() (no proxy, no ~/.curlrc), stdout/stderr as
    text: for -w formats and several URLs on one connection."""
    with tempfile.TemporaryDirectory(prefix="ringlet-curl-") as td:
        env = dict(os.environ)
        for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                    "ALL_PROXY", "CURL_HOME"):
            env.pop(var, None)
        env["HOME"] = td
        cmd = [curl_bin(), "-sS", "--noproxy", "*", "--max-time", _fmt(max_time)] + list(args)
        try:
            return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  errors="replace", timeout=max_time + 10, env=env)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"curl hung beyond --max-time: {cmd}") from e


# =============================================================================================
# Config and reload helpers (test_reload*.py). Additive, like the TLS helpers above.
#
# - free_port(): a port that was free a moment ago (bind 127.0.0.1:0, close).
# - write_config(): a JSON config file from a dict (or raw text, for broken configs).
# - ConfigServer: `ringlet serve --config FILE --pidfile P`, with .reload() / .ringlet_stop() /
#   .status() and the listening sockets' inodes (to tell a kept listener from a reopened one).

import json

GENERATION_RE = re.compile(r"^seq=(\d+) (ok|failed) generation=(\d+) ", re.M)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def write_config(path: str, config: dict | str) -> str:
    """Writes `config` (a dict as JSON, or text as is) to `path` atomically; returns path."""
    text = config if isinstance(config, str) else json.dumps(config, indent=2) + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def connect_refused(port: int, timeout: float = 2.0) -> bool:
    """True if a TCP connect to 127.0.0.1:port is refused (False if it connects)."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return False
    except ConnectionRefusedError:
        return True


def listening_inodes(pid: int, port: int) -> set[int]:
    """Inodes of the TCP LISTEN sockets on 127.0.0.1:port that process `pid` holds."""
    mine: set[int] = set()
    fd_dir = f"/proc/{pid}/fd"
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", target)
        if m:
            mine.add(int(m.group(1)))
    found: set[int] = set()
    with open(f"/proc/{pid}/net/tcp") as f:
        next(f)
        for line in f:
            cols = line.split()
            local, state, inode = cols[1], cols[3], int(cols[9])
            if state == "0A" and int(local.split(":")[1], 16) == port and inode in mine:
                found.add(inode)
    return found


class ConfigServer(Server):
    """`with ConfigServer(config_path) as srv:` runs `ringlet serve --config CONFIG --pidfile P
    EXTRA...` and waits for the status file and the "listening on" line(s). srv.port is the
    HTTPS port from the log (None without one); the config's own ports are the test's to know.
    On exit: SIGTERM and exit code 0, as for Server."""

    def __init__(self, config: str, *, extra: list[str] | tuple = ()):
        super().__init__([], extra=extra)
        self.config = config

    def argv(self) -> list[str]:
        return [ringlet_bin(), "serve", "--config", self.config, "--pidfile",
                self.pidfile] + self.extra

    _waiting_for = "status file and 'listening' line"

    def _ready(self, log: str) -> bool:
        if not (self.status() and re.search(r"listening on |redirecting http://", log)):
            return False
        m = TLS_LISTEN_RE.search(log)
        self.port = int(m.group(1)) if m else None
        return True

    @property
    def status_path(self) -> str:
        return self.pidfile + ".status"

    def status(self) -> str:
        try:
            with open(self.status_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def generation(self) -> int:
        m = GENERATION_RE.search(self.status())
        assert m, f"no generation in the status file: {self.status()!r}"
        return int(m.group(3))

    def reload(self, timeout: float = 20.0) -> subprocess.CompletedProcess:
        """`ringlet reload --pidfile P`: the completed process (rc, stdout, stderr)."""
        return run_ringlet(["reload", "--pidfile", self.pidfile], timeout=timeout)

    def ringlet_stop(self, timeout: float = STOP_TIMEOUT) -> subprocess.CompletedProcess:
        """`ringlet stop --pidfile P` while this process reaps the server (a zombie child would
        still answer kill(pid, 0), so `ringlet stop` would wait for us). Returns the completed
        `ringlet stop`; the server's exit code is in .returncode (None if it did not exit)."""
        cmd = [ringlet_bin(), "stop", "--pidfile", self.pidfile, "--timeout", _fmt(timeout)]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, errors="replace",
                             preexec_fn=_die_with_parent)
        _live.add(p)
        try:
            self.wait(timeout)
            out, err = p.communicate(timeout=timeout + 5)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(5)
            _live.discard(p)
        return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def serial_of(pem: str) -> str:
    """The certificate's serial number in hex ("serial=..." stripped)."""
    return cert_field(pem, "-serial").split("=", 1)[1]


class ReloadTestCase(unittest.TestCase):
    """Per class: a test PKI (make_pki). Per test: a folder (self.dir) with the config file, the
    site roots and the internal CA's storage; start(cfg) runs a ConfigServer for this test only,
    and reload_ok() / reload_rejected() rewrite the config and run `ringlet reload`."""

    pki: Pki
    tmp: str

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tmp = tempfile.TemporaryDirectory(prefix="ringlet-reload-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = tmp.name
        cls.pki = make_pki(os.path.join(tmp.name, "pki"))

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="t-", dir=self.tmp)
        self.storage = os.path.join(self.dir, "storage")
        self.config_path = os.path.join(self.dir, "ringlet.json")
        self.srv: ConfigServer | None = None
        self._ctx: ssl.SSLContext | None = None

    # -- fixture -----------------------------------------------------------------------------
    def make_root(self, name: str, files: dict[str, bytes]) -> str:
        """self.dir/NAME with `files` (relative path -> bytes); returns the absolute path."""
        root = os.path.join(self.dir, name)
        for rel, data in files.items():
            p = os.path.join(root, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
        os.makedirs(root, exist_ok=True)
        return root

    @staticmethod
    def internal(hosts: list[str], root: str) -> dict:
        return {"hosts": list(hosts), "root": root, "tls": {"issuer": "internal"}}

    @staticmethod
    def manual(hosts: list[str], root: str, cert: str, key: str) -> dict:
        return {"hosts": list(hosts), "root": root, "tls": {"cert": cert, "key": key}}

    def config(self, sites: list[dict], *, https: int | str | None, http: int | str | None = "off",
               drain: float = 5, **top) -> dict:
        def addr(v):
            return v if isinstance(v, str) else f"{HOST}:{v}"
        cfg = {"storage": "storage", "workers": 2, "listen": {}, "sites": sites,
               "timeouts": {"drain": drain}}
        if https is not None:
            cfg["listen"]["https"] = addr(https)
        if http is not None:
            cfg["listen"]["http"] = addr(http)
        cfg.update(top)
        return cfg

    def start(self, cfg: dict | str) -> ConfigServer:
        write_config(self.config_path, cfg)
        self.srv = self.enterContext(ConfigServer(self.config_path))
        return self.srv

    # -- clients -----------------------------------------------------------------------------
    @property
    def internal_root(self) -> str:
        return os.path.join(self.storage, "ca", "root.crt")

    def ctx(self) -> ssl.SSLContext:
        """Trusts the internal CA's root and the test PKI's root."""
        if self._ctx is None:
            self._ctx = ssl_context(self.internal_root)
            self._ctx.load_verify_locations(self.pki.root)
        return self._ctx

    def fetch(self, host: str, path: str = "/index.html", *, sni: str | None = None,
              port: int | None = None) -> Response:
        """GET over a fresh, verified TLS connection (SNI `sni`, default `host`)."""
        r, _ = tls_get(port or self.srv.port, path, self.ctx(), sni or host, host=host)
        return r

    def body(self, host: str, path: str = "/index.html", **kw) -> bytes:
        r = self.fetch(host, path, **kw)
        self.assertEqual(r.status, 200, r)
        return r.body

    def leaf(self, sni: str, port: int | None = None) -> str:
        """The leaf certificate (PEM) served for SNI `sni`, as openssl s_client sees it."""
        s = s_client(port or self.srv.port, "-servername", sni, "-showcerts")
        self.assertEqual(s.returncode, 0, s)
        self.assertTrue(s.certs, s)
        return s.certs[0]

    # -- reload ------------------------------------------------------------------------------
    def reload_ok(self, cfg: dict | str | None = None) -> int:
        """Writes `cfg` (if given), runs `ringlet reload`, asserts success; the new generation."""
        if cfg is not None:
            write_config(self.config_path, cfg)
        before = self.srv.generation()
        p = self.srv.reload()
        self.assertEqual(p.returncode, 0, f"ringlet reload: {p}\nlog:\n{self.srv.log()[-3000:]}")
        m = re.match(r"reload ok generation=(\d+) ", p.stdout)
        self.assertTrue(m, p)
        self.assertEqual(int(m.group(1)), before + 1, p)
        self.assertEqual(self.srv.generation(), before + 1, self.srv.status())
        return before + 1

    def reload_rejected(self, cfg: dict | str | None = None) -> str:
        """Writes `cfg` (if given), runs `ringlet reload`, asserts it was rejected in the
        documented form; returns the error text after the "still serving" prefix."""
        if cfg is not None:
            write_config(self.config_path, cfg)
        gen = self.srv.generation()
        p = self.srv.reload()
        self.assertEqual(p.returncode, 1, p)
        self.assertEqual(p.stdout, "", p)
        prefix = (f"reload failed generation={gen} new config rejected, still serving "
                  f"generation {gen}: ")
        self.assertTrue(p.stderr.startswith(prefix), f"want prefix {prefix!r}, got {p.stderr!r}")
        self.assertEqual(self.srv.generation(), gen, self.srv.status())
        self.assertIsNone(self.srv.proc.poll(), f"server exited:\n{self.srv.log()}")
        return p.stderr[len(prefix):]
