"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

Each test queues the replies it wants (an answer, an HTTP error, a stall, a broken body); the
server hands them out in order and records every request it received, so tests can assert on
what the real `openai` client actually sent. Streaming requests get Server-Sent Events.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_STALL = 5.0  # no handler ever sleeps longer than this


@dataclass(frozen=True)
class Reply:
    """One scripted reply. `pieces` is the answer text as it is streamed (joined when not)."""

    pieces: tuple[str, ...] = ()
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    stall: float = 0.0  # seconds before anything is sent
    gap: float = 0.0  # seconds between streamed pieces
    raw_body: bytes | None = None  # sent as-is, e.g. malformed JSON
    content_type: str = "application/json"  # of raw_body

    @staticmethod
    def answer(*pieces: str) -> Reply:
        return Reply(pieces=pieces)

    @staticmethod
    def error(status: int, *headers: tuple[str, str]) -> Reply:
        return Reply(status=status, headers=headers)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


# A reply, or a function that builds one from the request body (to cite the right passage).
Scripted = Reply | Callable[[dict[str, Any]], Reply]


@dataclass
class FakeLLM:
    server: ThreadingHTTPServer
    replies: deque[Scripted] = field(default_factory=deque)
    requests: list[Received] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)  # raised by scripted functions
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Scripted) -> None:
        with self.lock:
            self.replies.extend(replies)

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            scripted = self.replies.popleft() if self.replies else None
        if scripted is None:
            return Reply(status=599, raw_body=b'{"error": {"message": "no scripted reply left"}}')
        if isinstance(scripted, Reply):
            return scripted
        try:
            return scripted(body)
        except Exception as exc:  # a failed assertion in a test's reply function
            with self.lock:
                self.errors.append(exc)
            return Reply(status=599, raw_body=b'{"error": {"message": "reply function failed"}}')

    def record(self, received: Received) -> None:
        with self.lock:
            self.requests.append(received)


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(model: str, piece: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "delta": {"content": piece} if piece is not None else {},
                "finish_reason": None if piece is not None else "stop",
            }
        ],
    }


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # keep test output clean

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"unparsable": raw.decode("utf-8", "replace")}
            fake.record(Received(self.path, dict(self.headers.items()), body))
            reply = fake.next_reply(body)
            if reply.stall:
                time.sleep(min(reply.stall, MAX_STALL))
            # The client may have given up already (a timeout test): nothing to do then.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(reply, body)

        def _send(self, reply: Reply, body: dict[str, Any]) -> None:
            model = str(body.get("model", "test-model"))
            if reply.raw_body is not None or reply.status != 200:
                payload = reply.raw_body
                if payload is None:
                    payload = json.dumps(
                        {"error": {"message": f"scripted {reply.status}", "type": "test"}}
                    ).encode()
                self._head(reply, reply.content_type, len(payload))
                self.wfile.write(payload)
                return
            if body.get("stream"):
                self._head(reply, "text/event-stream", None)
                for piece in (*reply.pieces, None):
                    time.sleep(min(reply.gap, MAX_STALL))
                    event = f"data: {json.dumps(_chunk(model, piece))}\n\n".encode()
                    self.wfile.write(event)
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True
                return
            payload = json.dumps(_completion(model, "".join(reply.pieces))).encode()
            self._head(reply, "application/json", len(payload))
            self.wfile.write(payload)

        def _head(self, reply: Reply, content_type: str, length: int | None) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            for name, value in reply.headers:
                self.send_header(name, value)
            if length is None:
                self.send_header("Connection", "close")
            else:
                self.send_header("Content-Length", str(length))
            self.end_headers()

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def start_fake_llm() -> tuple[FakeLLM, threading.Thread]:
    fake = FakeLLM(server=None)  # type: ignore[arg-type]
    fake.server = _Server(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    return fake, thread


def stop_fake_llm(fake: FakeLLM, thread: threading.Thread) -> None:
    fake.server.shutdown()
    fake.server.server_close()
    thread.join(timeout=5)


_PASSAGE = re.compile(r'<passage n="(\d+)">\n(.*?)\n</passage>', re.S)


def passages_sent(body: dict[str, Any]) -> dict[int, str]:
    """The passage blocks of a chat request's user message, by number."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return {int(n): text for n, text in _PASSAGE.findall(user)}


def passage_with(body: dict[str, Any], needle: str) -> int:
    """The number of the first passage sent that contains `needle`."""
    for n, text in passages_sent(body).items():
        if needle in text:
            return n
    raise AssertionError(f"no passage sent contains {needle!r}")
