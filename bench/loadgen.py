"""The load process: signed WhatsApp webhooks on a fixed schedule and agents' WebSockets.

It runs as its own process (`python -m bench.loadgen spec.json result.json`) so the load it makes
does not share the benchmark's interpreter; it never imports Django. HTTP/1.1 is spoken directly
over `asyncio.open_connection` with keep-alive connections (no client library in the venv does it
faster), and requests leave on an open-loop schedule: request i is due at t0 + i/rate whether or
not earlier ones have been answered, so latency counts the time a request waited in line.

Modes (spec["mode"]):
- "webhooks": POST the stages of signed webhooks; per request scheduled, sent and answered times.
- "realtime": log agents in over HTTP, open their sockets at /ws/, POST webhooks at a rate and
  record when each socket saw each `inbox.message` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import re
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

REQUEST_TIMEOUT = 30.0
MAX_CONNECTIONS = 256


# --- webhook payloads -----------------------------------------------------------------------


FIRST_NAMES = [
    "Lucía", "María", "José", "Juan", "Carmen", "Ana", "Luis", "Carlos", "Rosa", "Jorge",
    "Sofía", "Valentina", "Miguel", "Andrés", "Gabriela", "Fernando", "Camila", "Diego",
    "Patricia", "Ramón", "Mónica", "Óscar", "Beatriz", "Raúl", "Natalia", "Héctor",
]  # fmt: skip
LAST_NAMES = [
    "Benítez", "González", "Rodríguez", "Martínez", "López", "Giménez", "Ramírez", "Torres",
    "Vargas", "Rivera", "Ortiz", "Cabrera", "Acosta", "Duarte", "Núñez", "Colón", "Santiago",
]  # fmt: skip
TEXTS = [
    "Hola, buenas tardes",
    "¿Cuál es el saldo de mi cuenta?",
    "Quiero hablar con un asesor, por favor",
    "Ya realicé el pago, les envío el comprobante",
    "No me llegó la factura de este mes 😕",
    "¿Hasta qué hora atienden hoy?",
    "Necesito reprogramar mi cuota",
    "Gracias! 👍",
]


def new_wa_id(rng: random.Random) -> str:
    """A WhatsApp id (E.164 digits) of a new customer in Paraguay, Colombia or Puerto Rico."""
    country = rng.random()
    if country < 0.5:
        return f"5959{rng.choice('6789')}{rng.randrange(10**7):07d}"  # PY mobile 09xx
    if country < 0.85:
        return f"573{rng.randrange(10**9):09d}"  # CO mobile 3xx
    return f"1{rng.choice(('787', '939'))}{rng.randrange(2, 10)}{rng.randrange(10**6):06d}"  # PR


@dataclass
class Sender:
    wa_id: str  # "" for a username-only sender (Meta's coming BSUID): user_id is set instead
    name: str
    user_id: str = ""


def sender_pool(spec: dict, rng: random.Random, size: int) -> list[Sender]:
    """Existing contacts (their stored phones) and new ones, a few with no phone (username only)."""
    existing = [p.lstrip("+") for p in spec.get("existing_phones") or [] if p]
    senders: list[Sender] = []
    for index in range(size):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        roll = rng.random()
        if existing and roll < spec.get("existing_share", 0.5):
            senders.append(Sender(wa_id=existing[index % len(existing)], name=name))
        elif roll > 0.98:
            senders.append(Sender(wa_id="", name=name, user_id=f"PY.{rng.getrandbits(64):016x}"))
        else:
            senders.append(Sender(wa_id=new_wa_id(rng), name=name))
    return senders


def webhook_body(number_id: str, items: list[tuple[str, Sender, str]], timestamp: int) -> bytes:
    """Meta's WhatsApp `messages` change for one or more (wamid, sender, text) items."""
    contacts: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    seen: set[str] = set()
    for wamid, sender, text in items:
        key = sender.wa_id or sender.user_id
        if key not in seen:
            seen.add(key)
            contact: dict[str, Any] = {"profile": {"name": sender.name}, "wa_id": sender.wa_id}
            if sender.user_id:
                contact["user_id"] = sender.user_id
            contacts.append(contact)
        message: dict[str, Any] = {
            "from": sender.wa_id,
            "id": wamid,
            "timestamp": str(timestamp),
            "type": "text",
            "text": {"body": text},
        }
        if sender.user_id:
            message["from_user_id"] = sender.user_id
        messages.append(message)
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": number_id},
        "contacts": contacts,
        "messages": messages,
    }
    data = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    # Meta's bytes: compact, non-ASCII escaped as \uXXXX and "/" as "\/".
    return json.dumps(data, separators=(",", ":")).replace("/", "\\/").encode()


def sign(raw: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def build_posts(
    spec: dict, *, count: int, per_post: int, prefix: str, rng: random.Random
) -> list[tuple[bytes, dict[str, str], list[str]]]:
    """`count` signed POST bodies of `per_post` messages: (body, headers, wamids)."""
    senders = sender_pool(spec, rng, max(16, count * per_post // 3))
    now = int(time.time())
    posts = []
    for index in range(count):
        items = []
        for offset in range(per_post):
            wamid = f"{prefix}.{index:07d}.{offset:02d}"
            items.append((wamid, rng.choice(senders), rng.choice(TEXTS)))
        raw = webhook_body(spec["phone_number_id"], items, now)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(raw, spec["app_secret"]),
            "User-Agent": "facebookexternalua",
        }
        posts.append((raw, headers, [item[0] for item in items]))
    return posts


# --- HTTP/1.1 keep-alive client ---------------------------------------------------------------


class HttpError(Exception):
    pass


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on this connection; (status, lower-cased headers, body)."""
        if self.writer is None:
            await self.open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        answer: dict[str, str] = {}
        cookies: list[str] = []
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                name = name.strip().lower()
                if name == "set-cookie":
                    cookies.append(value.strip())
                answer[name] = value.strip()
        if cookies:
            answer["set-cookie"] = "\n".join(cookies)
        if "content-length" in answer:
            content = await self.reader.readexactly(int(answer["content-length"]))
        elif answer.get("transfer-encoding", "").lower() == "chunked":
            content = await self._chunked()
        else:
            content = await self.reader.read()
            self.close()
        if answer.get("connection", "").lower() == "close":
            self.close()
        return status, answer, content

    async def _chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


def split_url(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 80


class Pool:
    """Keep-alive connections to one or more servers, handed out round robin by server."""

    def __init__(self, base_urls: list[str], limit: int = MAX_CONNECTIONS) -> None:
        self.targets = [split_url(url) for url in base_urls]
        self.idle: list[list[Connection]] = [[] for _ in self.targets]
        self.open_count = 0
        self.limit = limit
        self.freed = asyncio.Condition()
        self.turn = 0

    async def warm(self, per_target: int) -> None:
        for index, (host, port) in enumerate(self.targets):
            for _ in range(per_target):
                connection = Connection(host, port)
                await connection.open()
                self.idle[index].append(connection)
                self.open_count += 1

    async def acquire(self) -> tuple[int, Connection]:
        index = self.turn % len(self.targets)
        self.turn += 1
        async with self.freed:
            while True:
                if self.idle[index]:
                    return index, self.idle[index].pop()
                if self.open_count < self.limit:
                    self.open_count += 1
                    return index, Connection(*self.targets[index])
                await self.freed.wait()

    async def release(self, index: int, connection: Connection, healthy: bool) -> None:
        async with self.freed:
            if healthy and connection.writer is not None:
                self.idle[index].append(connection)
            else:
                connection.close()
                self.open_count -= 1
            self.freed.notify()

    def close(self) -> None:
        for idle in self.idle:
            for connection in idle:
                connection.close()


@dataclass
class Outcome:
    scheduled: float  # perf_counter when it was due
    sent: float = 0.0  # when its bytes were written
    done: float = 0.0  # when the answer was read
    status: int = 0  # 0: no answer (connection error or timeout)
    error: str = ""


async def post_once(pool: Pool, path: str, body: bytes, headers: dict, outcome: Outcome) -> None:
    index, connection = await pool.acquire()
    healthy = False
    try:
        outcome.sent = time.perf_counter()
        status, _headers, _content = await asyncio.wait_for(
            connection.request("POST", path, headers, body), REQUEST_TIMEOUT
        )
        outcome.status = status
        healthy = True
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        outcome.error = type(exc).__name__
    finally:
        outcome.done = time.perf_counter()
        await pool.release(index, connection, healthy)


async def open_loop(
    pool: Pool, path: str, posts: list[tuple[bytes, dict, list[str]]], rate: float
) -> tuple[float, list[Outcome]]:
    """Send `posts` at `rate` per second on a fixed schedule: (wall-clock time the first one
    was due, outcomes in order)."""
    outcomes = [Outcome(scheduled=0.0) for _ in posts]
    tasks = []
    t0 = time.perf_counter() + 0.05
    wall0 = time.time() + 0.05
    for index, (body, headers, _wamids) in enumerate(posts):
        due = t0 + index / rate
        delay = due - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        outcomes[index].scheduled = due
        tasks.append(asyncio.create_task(post_once(pool, path, body, headers, outcomes[index])))
    await asyncio.gather(*tasks)
    return wall0, outcomes


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    ok = [o for o in outcomes if 200 <= o.status < 300]
    latencies = sorted((o.done - o.scheduled) * 1000 for o in ok)
    start = min((o.scheduled for o in outcomes), default=0.0)
    end = max((o.done for o in outcomes), default=0.0)
    statuses: dict[str, int] = {}
    for o in outcomes:
        key = str(o.status) if o.status else (o.error or "error")
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "sent": len(outcomes),
        "accepted": len(ok),
        "errors": len(outcomes) - len(ok),
        "statuses": statuses,
        "elapsed_s": max(end - start, 1e-9),
        "latencies_ms": latencies,
    }


# --- mode: webhooks ---------------------------------------------------------------------------


async def run_webhooks(spec: dict) -> dict[str, Any]:
    """spec: base_urls, phone_number_id, app_secret, existing_phones, seed, prefix, stages
    [{name, rate, seconds, per_post}]. Returns per stage the summary and the wall time of its
    first POST (the benchmark polls the database for the end-to-end time)."""
    rng = random.Random(spec.get("seed", 1))
    results = []
    for stage in spec["stages"]:
        count = max(1, int(stage["rate"] * stage["seconds"]))
        posts = build_posts(
            spec,
            count=count,
            per_post=stage.get("per_post", 1),
            prefix=f"{spec['prefix']}.{stage['name']}",
            rng=rng,
        )
        pool = Pool(spec["base_urls"])
        await pool.warm(min(16, count))
        wall0, outcomes = await open_loop(pool, "/webhooks/whatsapp", posts, stage["rate"])
        pool.close()
        summary = summarize(outcomes)
        summary.update(
            name=stage["name"],
            rate=stage["rate"],
            per_post=stage.get("per_post", 1),
            messages=sum(len(p[2]) for p in posts),
            first_post_wall=wall0,
            accepted_messages=sum(
                len(p[2]) for p, o in zip(posts, outcomes, strict=True) if 200 <= o.status < 300
            ),
        )
        results.append(summary)
    return {"stages": results}


# --- mode: realtime ---------------------------------------------------------------------------

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _cookie_values(set_cookie: str) -> dict[str, str]:
    values = {}
    for line in set_cookie.split("\n"):
        pair = line.split(";", 1)[0]
        if "=" in pair:
            name, value = pair.split("=", 1)
            values[name.strip()] = value.strip()
    return values


async def login(base_url: str, username: str, password: str, path: str) -> dict[str, str]:
    """GET the login form (CSRF cookie + token), POST the credentials: the session cookies."""
    connection = Connection(*split_url(base_url))
    try:
        status, headers, content = await connection.request("GET", path, {})
        if status != 200:
            raise HttpError(f"login form answered {status}")
        cookies = _cookie_values(headers.get("set-cookie", ""))
        token = _CSRF_INPUT.search(content.decode("utf-8", "replace"))
        if not token:
            raise HttpError("no CSRF token in the login form")
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
        ).encode()
        status, headers, _content = await connection.request(
            "POST",
            path,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                "Referer": f"{base_url}{path}",
            },
            form,
        )
        if status != 302:
            raise HttpError(f"login of {username} answered {status}")
        cookies.update(_cookie_values(headers.get("set-cookie", "")))
        return cookies
    finally:
        connection.close()


@dataclass
class Socket:
    index: int
    received: list[tuple[int, float]] = field(default_factory=list)  # (message_id, perf time)
    other_events: int = 0
    closed: str = ""


_MESSAGE_ID = re.compile(r'"message_id":\s*(\d+)')


async def listen(socket: Socket, connection, stop: asyncio.Event) -> None:
    try:
        async for text in connection:
            now = time.perf_counter()
            if isinstance(text, str) and '"inbox.message"' in text:
                match = _MESSAGE_ID.search(text)
                if match:
                    socket.received.append((int(match.group(1)), now))
                    continue
            socket.other_events += 1
            if stop.is_set():
                break
    except Exception as exc:  # the server closed it: counted by the caller as lost events
        socket.closed = f"{type(exc).__name__}: {exc}"[:200]


async def run_realtime(spec: dict) -> dict[str, Any]:
    """spec: base_urls, agents [[username, password]], login_path, ws_path, rate, seconds, and the
    webhook fields of run_webhooks. Sockets are spread over the web processes round robin."""
    from websockets.asyncio.client import connect

    rng = random.Random(spec.get("seed", 2))
    base_urls = spec["base_urls"]
    agents = spec["agents"]
    semaphore = asyncio.Semaphore(spec.get("login_concurrency", 4))

    async def log_in(index: int, username: str, password: str) -> dict[str, str]:
        async with semaphore:
            return await login(
                base_urls[index % len(base_urls)], username, password, spec["login_path"]
            )

    started = time.perf_counter()
    cookies = await asyncio.gather(
        *(log_in(i, username, password) for i, (username, password) in enumerate(agents))
    )
    login_seconds = time.perf_counter() - started

    sockets = [Socket(index=i) for i in range(len(agents))]
    connections = []
    stop = asyncio.Event()
    started = time.perf_counter()
    for index, jar in enumerate(cookies):
        base = base_urls[index % len(base_urls)]
        host, port = split_url(base)
        connection = await connect(
            f"ws://{host}:{port}{spec['ws_path']}",
            origin=base,
            additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
            proxy=None,
            max_queue=None,
            ping_interval=None,
        )
        connections.append(connection)
    connect_seconds = time.perf_counter() - started
    listeners = [
        asyncio.create_task(listen(s, c, stop)) for s, c in zip(sockets, connections, strict=True)
    ]
    await asyncio.sleep(spec.get("settle_seconds", 1.0))  # every group_add has landed

    count = max(1, int(spec["rate"] * spec["seconds"]))
    posts = build_posts(spec, count=count, per_post=1, prefix=spec["prefix"], rng=rng)
    pool = Pool(base_urls)
    await pool.warm(8)
    _wall0, outcomes = await open_loop(pool, "/webhooks/whatsapp", posts, spec["rate"])
    pool.close()

    # Wait until every socket has every accepted message, or nothing arrives for a while.
    accepted = sum(1 for o in outcomes if 200 <= o.status < 300)
    idle_limit = spec.get("idle_seconds", 10.0)
    deadline = time.perf_counter() + spec.get("max_wait_seconds", 120.0)
    last_total, last_change = -1, time.perf_counter()
    while time.perf_counter() < deadline:
        total = sum(len(s.received) for s in sockets)
        if all(len(s.received) >= accepted for s in sockets):
            break
        if total != last_total:
            last_total, last_change = total, time.perf_counter()
        elif time.perf_counter() - last_change > idle_limit:
            break
        await asyncio.sleep(0.1)
    stop.set()
    for connection in connections:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.close(), 5)
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    return {
        "login_seconds": login_seconds,
        "connect_seconds": connect_seconds,
        "posts": [
            {"wamid": post[2][0], "sent": o.sent, "status": o.status, "done": o.done}
            for post, o in zip(posts, outcomes, strict=True)
        ],
        "summary": {k: v for k, v in summarize(outcomes).items() if k != "latencies_ms"},
        "sockets": [
            {"received": s.received, "other": s.other_events, "closed": s.closed} for s in sockets
        ],
    }


def main(argv: list[str]) -> int:
    spec_path, result_path = argv[1], argv[2]
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    runner = {"webhooks": run_webhooks, "realtime": run_realtime}[spec["mode"]]
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(runner(spec))
    else:
        result = uvloop.run(runner(spec))
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))


# --- the benchmark's side: start a load process and read its answer -----------------------------


class LoadProcess:
    """One load process running a spec; `wait()` returns its result (raises if it failed)."""

    def __init__(self, spec: dict, workdir: str) -> None:
        import os
        import subprocess
        import tempfile
        from pathlib import Path

        root = Path(__file__).resolve().parent.parent
        handle, self.spec_path = tempfile.mkstemp(prefix="load-", suffix=".json", dir=workdir)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(spec, out)
        self.result_path = self.spec_path.replace(".json", ".out.json")
        self.log_path = self.spec_path.replace(".json", ".log")
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in wait()
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen", self.spec_path, self.result_path],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float | None = None) -> dict:
        import os

        try:
            code = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.log.close()
        if code != 0:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                tail = handle.read()[-3000:]
            raise RuntimeError(f"load process exited with {code}:\n{tail}")
        with open(self.result_path, encoding="utf-8") as handle:
            result = json.load(handle)
        for path in (self.spec_path, self.result_path, self.log_path):
            with contextlib.suppress(OSError):
                os.remove(path)
        return result
