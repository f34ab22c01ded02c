"""A small OpenAI-compatible chat server on 127.0.0.1, for tests and for users' own CI.

It answers POST /v1/chat/completions. Replies come from a script (a list of actions, one per
request, in order) and, once the script is used up, from a default that writes one valid record
in the asked target format from the excerpt it was sent. Actions (JSON objects):

    {"status": 429, "retry_after": 1}     an error status, with a Retry-After header if given
    {"status": 400}                        a request the server refuses
    {"status": 401, "echo_key": true}      an error whose message quotes the Authorization header
    {"hang": 30}                           wait that long before answering (past the timeout)
    {"content": "..."}                     this exact reply text (not JSON, truncated JSON ...)
    {"refusal": "I can't help with that."} a refusal, as structured outputs report it
    {"body": "<html>...", "content_type": "text/html"}
                                           a 200 whose body is this text (a proxy's page, bad JSON)
    {"body": "...", "encoding": "latin-1"} the body in another encoding than UTF-8
    {"response": {...}}                    this JSON object as the whole 200 body (message null,
                                           content as a list of parts, null token counts ...)
    {"stream": true}                       the reply as server-sent events, as if streaming was asked
    {"trickle": 0.5}                       the body one byte every 0.5 s (a slow proxy)

Every request body is kept in ``requests``; ``latency`` seconds are added to every answer;
``unsupported`` names structured-output levels ("json_schema", "json_object") the server answers
with 400, as many local servers do.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_TARGET = re.compile(r"^Target format: (\S+)$", re.M)
_SECTION = re.compile(r"^Section: (.*)$", re.M)


class FakeLLM:
    def __init__(self, script: list[dict] | None = None, latency: float = 0.0, port: int = 0,
                 unsupported: tuple[str, ...] = ()):
        self.script = list(script or [])
        self.latency = latency
        self.unsupported = set(unsupported)
        self.requests: list[dict] = []
        self.in_flight = 0
        self.most_in_flight = 0  # the largest number of requests answered at once
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _handler(self))
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeLLM:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def next_action(self, body: dict) -> dict:
        with self._lock:
            self.requests.append(body)
            level = _level_of(body)
            if level in self.unsupported:
                return {"status": 400, "message": f"response_format {level} is not supported"}
            return self.script.pop(0) if self.script else {}

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


class _Server(ThreadingHTTPServer):
    # socketserver queues 5 pending connections by default: with more concurrent clients than
    # that, connections wait for TCP retransmits and the server looks slow when it is not.
    request_queue_size = 256
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that went away is no error
            super().handle_error(request, client_address)


def _level_of(body: dict) -> str:
    fmt = body.get("response_format") or {}
    return fmt.get("type", "plain") if fmt else "plain"


def default_reply(body: dict) -> str:
    """One valid record in the target format named in the system prompt, from the excerpt."""
    system = next((m["content"] for m in body.get("messages", []) if m["role"] == "system"), "")
    user = next((m["content"] for m in body.get("messages", []) if m["role"] == "user"), "")
    target = (_TARGET.search(system) or [None, "alpaca"])[1]
    section = (_SECTION.search(user) or [None, "the document"])[1]
    excerpt = user.split("\n\n", 1)[-1].strip()
    question = f"What does {section} say?"
    if target == "alpaca":
        record: dict[str, Any] = {"instruction": question, "input": "", "output": excerpt}
    elif target == "openai":
        record = {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": excerpt}]}
    else:
        record = {"conversations": [{"role": "user", "content": question}, {"role": "assistant", "content": excerpt}]}
    return json.dumps({"records": [record]}, ensure_ascii=False)


def _handler(server: FakeLLM):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep connections open between requests, as real servers do
        # Headers and body go out in two writes; with Nagle's algorithm the second waits for
        # the client's delayed ACK, 40 ms on Linux, on every answer.
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:  # quiet: tests read requests, not logs
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            data = self.rfile.read(length)
            if len(data) < length:  # the client went away mid-request (a killed run): nothing was asked
                self.close_connection = True
                return
            try:
                body = json.loads(data or b"{}")
            except ValueError:
                return self._send(400, {"error": {"message": "request body is not JSON"}})
            action = server.next_action(body)
            server._enter()
            try:
                time.sleep(server.latency + action.get("hang", 0))
                self._answer(body, action)
            finally:
                server._leave()

        def _answer(self, body: dict, action: dict) -> None:
            if "status" in action:
                headers = {"retry-after": str(action["retry_after"])} if "retry_after" in action else {}
                message = action.get("message", "scripted error")
                if action.get("echo_key"):
                    message = f"Incorrect API key provided: {self.headers.get('authorization', '')}"
                return self._send(action["status"], {"error": {"message": message, "type": "scripted"}}, headers)
            if "body" in action:
                data = action["body"].encode(action.get("encoding", "utf-8"))
                return self._send_bytes(200, data, action.get("content_type", "application/json"),
                                        trickle=action.get("trickle", 0))
            if "response" in action:
                return self._send(200, action["response"], trickle=action.get("trickle", 0))
            content = action.get("content")
            refusal = action.get("refusal")
            if content is None and refusal is None:
                content = default_reply(body)
            if action.get("stream"):
                return self._stream(body, content or "", refusal)
            message = {"role": "assistant", "content": content, "refusal": refusal}
            prompt = sum(len(m.get("content") or "") for m in body.get("messages", [])) // 4
            completion = len(content or refusal or "") // 4
            self._send(200, {"id": f"chatcmpl-{len(server.requests)}", "object": "chat.completion",
                             "created": int(time.time()), "model": body.get("model", "fake"),
                             "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                       "total_tokens": prompt + completion}}, trickle=action.get("trickle", 0))

        def _stream(self, body: dict, content: str, refusal: str | None) -> None:
            events = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
            events += [{"choices": [{"index": 0, "delta": {"content": content[i:i + 16]}}]}
                       for i in range(0, len(content), 16)]
            if refusal:
                events.append({"choices": [{"index": 0, "delta": {"refusal": refusal}}]})
            events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            data = "".join(f"data: {json.dumps(e, ensure_ascii=False)}\n\n" for e in events) + "data: [DONE]\n\n"
            self._send_bytes(200, data.encode(), "text/event-stream")

        def _send(self, status: int, payload: dict, headers: dict | None = None, trickle: float = 0) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            self._send_bytes(status, data, "application/json", headers, trickle)

        def _send_bytes(self, status: int, data: bytes, content_type: str, headers: dict | None = None,
                        trickle: float = 0) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if not trickle:
                    self.wfile.write(data)
                    return
                for i in range(len(data)):
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    time.sleep(trickle)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

    return Handler
