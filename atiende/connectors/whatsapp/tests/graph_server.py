"""A real HTTP server on 127.0.0.1 standing in for Meta's Graph API, recording every request.

`server.routes[("POST", "/v21.0/123/messages")] = [response, …]` queues answers (the last one
repeats); a response is `(status, dict | bytes, content_type)`. Unknown routes answer 404.
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class GraphServer:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    routes: dict[tuple[str, str], list] = field(default_factory=dict)

    def answer(self, method: str, path: str, *responses) -> None:
        self.routes[(method, path)] = list(responses)

    def sent(self, method: str = "", path: str = "") -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (not method or r.method == method) and (not path or r.path.split("?")[0] == path)
        ]

    def _respond(self, method: str, path: str):
        queue = self.routes.get((method, path.split("?")[0]))
        if not queue:
            return 404, {"error": {"message": "not found", "code": 100}}, "application/json"
        return queue.pop(0) if len(queue) > 1 else queue[0]


def start_graph_server() -> tuple[GraphServer, ThreadingHTTPServer]:
    state = GraphServer()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
            status, content, content_type = state._respond(self.command, self.path)
            raw = content if isinstance(content, bytes) else json.dumps(content).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _handle

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server
