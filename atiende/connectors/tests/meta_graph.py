"""A real HTTP server on 127.0.0.1 standing in for Meta's Graph API, recording every request.

`graph.requests` lists what arrived (method, path, query, headers, body, json); `graph.reply(
method, path, status, body)` fixes the answer for a path; anything else gets a plausible default:
the Send API a message id, a profile lookup a name, `/media/…` a PNG.
"""

import hashlib
import hmac
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
VERSION = "v21.0"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    json: dict | None = None


@dataclass
class FakeGraph:
    base_url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    fixed: dict = field(default_factory=dict)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def reply(self, method: str, path: str, status: int, body, content_type="application/json"):
        self.fixed[(method, path)] = (status, body, content_type)

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def answer(self, request: Recorded):
        fixed = self.fixed.get((request.method, request.path))
        if fixed is not None:
            return fixed
        path = request.path
        if path.startswith("/media/"):
            return 200, PNG, "image/png"
        if request.method == "POST" and path.endswith("/messages"):
            recipient = (request.json or {}).get("recipient") or {}
            return (
                200,
                {
                    "recipient_id": recipient.get("id", "psid-from-comment"),
                    "message_id": f"m_out_{next(self.counter)}",
                },
                "application/json",
            )
        if request.method == "POST" and path.endswith(("/comments", "/replies")):
            return 200, {"id": f"reply_{next(self.counter)}"}, "application/json"
        if request.method == "POST":
            return 200, {"success": True}, "application/json"
        fields = request.query.get("fields", [""])[0]
        if "first_name" in fields:
            return 200, {"first_name": "Lucía", "last_name": "Benítez"}, "application/json"
        if "username" in fields:
            return 200, {"name": "Carla Ruiz", "username": "carla.ruiz"}, "application/json"
        if "caption" in fields:
            return (
                200,
                {
                    "caption": "Nueva colección de otoño",
                    "permalink": "https://www.instagram.com/p/abc/",
                    "media_type": "IMAGE",
                    "media_url": "https://cdn.example.com/ig.jpg",
                },
                "application/json",
            )
        if "full_picture" in fields:
            return (
                200,
                {
                    "message": "¡Promo de verano!",
                    "permalink_url": "https://www.facebook.com/123/posts/456",
                    "full_picture": "https://cdn.example.com/fb.jpg",
                },
                "application/json",
            )
        return 404, {"error": {"message": "Unknown path", "code": 803}}, "application/json"


def start_graph():
    graph = FakeGraph()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                parsed = (
                    json.loads(body)
                    if body and "json" in (self.headers.get("Content-Type") or "")
                    else None
                )
            except ValueError:
                parsed = None
            path = split.path
            if path.startswith(f"/{VERSION}/"):
                path = path[len(VERSION) + 1 :]
            request = Recorded(
                self.command, path, parse_qs(split.query), dict(self.headers), body, parsed
            )
            graph.requests.append(request)
            status, payload, content_type = graph.answer(request)
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _handle

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    graph.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return graph, server


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def meta_channel(kind: str, graph: FakeGraph, **kwargs):
    from atiende.inbox.models import Channel

    config = {"page_id": "1001", "graph_base_url": graph.base_url, "graph_version": VERSION}
    if kind == "instagram":
        config["instagram_account_id"] = "17841400000000001"
    channel = Channel(name=f"{kind} prueba", kind=kind, config=config, auto_assign=False, **kwargs)
    channel.credentials = {
        "page_access_token": "token-pagina",
        "app_secret": f"secreto-{kind}",
        "verify_token": f"verificar-{kind}",
    }
    channel.save()
    return channel
