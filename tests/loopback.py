"""A real HTTP server on 127.0.0.1 that speaks the OpenAI completions API — and misbehaves on cue.

It is not an LLM: it answers by reading the prompt like the ``oracle`` backend does. Its job is to
test the client side for real (sockets, HTTP, JSON, retries, timeouts), without a mock of the client
library. ``script`` is a queue of behaviours for the next requests; when it is empty, it answers.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from llmvm.backends.oracle import read_if_then, read_lookup

BEHAVIOURS = ("ok", "slow", "429", "500", "503", "truncated", "malformed", "empty", "wrong")


class LoopbackServer:
    def __init__(self, language: str = "if-then", *, delay: float = 2.0):
        self.read = {"if-then": read_if_then, "lookup": read_lookup}[language]
        self.script: list[str] = []
        self.requests: list[dict] = []  # every request body and header we received
        self.delay = delay
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def next_behaviour(self) -> str:
        with self._lock:
            return self.script.pop(0) if self.script else "ok"

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body, "headers": {k.lower(): v for k, v in self.headers.items()}})
                how = server.next_behaviour()
                if how == "slow":
                    time.sleep(server.delay)
                if how in ("429", "500", "503"):
                    extra = {"Retry-After": "0"} if how == "429" else {}
                    return self._send(int(how), b'{"error": {"message": "try later"}}', extra)
                prompt = body.get("prompt") or body["messages"][-1]["content"]
                text = "I refuse." if how == "wrong" else server.read(prompt)
                if body.get("messages"):
                    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    obj = "chat.completion"
                else:
                    choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
                    obj = "text_completion"
                payload = {"id": "x", "object": obj, "created": 0, "model": body["model"],
                           "choices": [] if how == "empty" else [choice],
                           "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(text) // 4,
                                     "total_tokens": 0}}
                raw = json.dumps(payload).encode()
                if how == "truncated":
                    raw = raw[: len(raw) // 2]
                elif how == "malformed":
                    raw = b"<html>502 Bad Gateway</html>"
                self._send(200, raw)

            def _send(self, status: int, raw: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(raw)
                except BrokenPipeError:  # the client gave up (a timeout): fine
                    pass

        return Handler
