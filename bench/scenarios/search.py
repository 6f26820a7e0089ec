"""Contact search the way the API does it: `GET /api/v1/contacts?q=` with the bench token.

Queries are built from contacts of the generated dataset, typed the ways people type them: a
phone as E.164, international with spaces, national with the trunk zero, bare digits and with
dashes; an e-mail; an identification with and without its dots; a partial name. Each request
runs on the live server; the figure is the server's own time (the `Server-Timing` header added
by ATIENDE_BENCH's middleware, from the first middleware to the response), and the note gives
the client's time over loopback and how many queries found the contact they were built from.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

from bench.core import Context, Figure, at_most, percentile

SCENARIO = "search"
TARGET_P95_MS = 25.0


@dataclass
class Response:
    status: int
    body: bytes
    server_ms: float
    client_ms: float
    queries: int

    def json(self):
        return json.loads(self.body)


class Http:
    """One keep-alive HTTP/1.1 connection to the server, timing each request."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.headers = headers or {}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        all_headers = {**self.headers, **(headers or {})}
        for attempt in range(2):
            started = time.perf_counter()
            try:
                self.conn.request("GET", path, headers=all_headers)
                raw = self.conn.getresponse()
                body = raw.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
                continue
            client_ms = (time.perf_counter() - started) * 1000
            return Response(
                raw.status,
                body,
                _server_ms(raw.getheader("Server-Timing", "")),
                client_ms,
                int(raw.getheader("X-Query-Count", "-1")),
            )
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def _server_ms(header: str) -> float:
    for part in header.split(","):
        name, _sep, rest = part.strip().partition(";")
        if name == "app" and rest.startswith("dur="):
            return float(rest[4:])
    return float("nan")


def _phone_formats(e164: str) -> dict[str, str]:
    number = phonenumbers.parse(e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return {
        "phone E.164": e164,
        "phone international": phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        ),
        "phone national": national,
        "phone digits": e164.lstrip("+"),
        "phone dashes": "-".join(national.replace("(", "").replace(")", "").split()),
    }


def build_queries(ctx: Context, per_kind: int) -> dict[str, list[tuple[str, int | None]]]:
    """{kind: [(query, contact id expected among the results or None), …]} from the dataset."""
    from atiende.contacts.models import Contact, ContactPoint

    rng = random.Random(ctx.seed + 1)
    top = Contact.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ids = rng.sample(range(1, top + 1), min(top, per_kind * 6))
    phones = list(
        ContactPoint.objects.filter(
            contact_id__in=ids, kind__in=["whatsapp", "mobile"], is_primary=True
        ).values_list("value", "contact_id")[: per_kind * 2]
    )
    queries: dict[str, list[tuple[str, int | None]]] = {}
    for value, contact_id in phones[:per_kind]:
        for kind, text in _phone_formats(value).items():
            queries.setdefault(kind, []).append((text, contact_id))
    emails = ContactPoint.objects.filter(contact_id__in=ids, kind="email").values_list(
        "value", "contact_id"
    )
    queries["e-mail"] = [(v.upper() if i % 3 == 0 else v, c) for i, (v, c) in enumerate(emails)][
        :per_kind
    ]
    people = list(
        Contact.objects.filter(id__in=ids).values_list(
            "id", "identification_number", "first_name", "last_name"
        )
    )
    idents = [(n, c) for c, n, _f, _l in people if n]
    queries["identification"] = [
        (n if i % 2 else n.replace(".", ""), c) for i, (n, c) in enumerate(idents)
    ][:per_kind]
    # A partial name as typed in the search box: first name and the start of the surname.
    queries["partial name"] = [(f"{first} {last[:4]}", c) for c, _n, first, last in people][
        :per_kind
    ]
    return queries


def measure(
    client: Http, queries: list[tuple[str, int | None]], rounds: int,
    path: Callable[[str], str],
) -> tuple[list[float], list[float], int, int]:  # fmt: skip
    """(server ms, client ms, found, asked) over `rounds` passes of the queries."""
    server, wall = [], []
    found = asked = 0
    for round_ in range(rounds):
        for text, expected in queries:
            response = client.get(path(text))
            if response.status != 200:
                raise RuntimeError(f"GET {path(text)} → {response.status}: {response.body[:200]!r}")
            server.append(response.server_ms)
            wall.append(response.client_ms)
            if round_ == 0:
                asked += 1
                items = response.json().get("items", [])
                if expected is None or any(item["id"] == expected for item in items):
                    found += 1
                elif response.json().get("count", 0) > len(items):
                    found += 1  # a common name: the contact is on a later page
    return server, wall, found, asked


def run(ctx: Context) -> list[Figure]:
    from django.db import connections

    per_kind, rounds = (5, 2) if ctx.smoke else (25, 4)
    queries = build_queries(ctx, per_kind)
    connections.close_all()
    client = Http(ctx.stack.base_url, {"Authorization": f"Bearer {ctx.state['api_token']}"})

    def path(text: str) -> str:
        return "/api/v1/contacts?" + urllib.parse.urlencode({"q": text, "page_size": 20})

    figures: list[Figure] = []
    try:
        measure(client, [q for qs in queries.values() for q in qs[:2]], 1, path)  # warm-up
        for kind, kind_queries in queries.items():
            if not kind_queries:
                continue
            server, wall, found, asked = measure(client, kind_queries, rounds, path)
            p95 = percentile(server, 95)
            target, met = at_most(p95, TARGET_P95_MS)
            note = (
                f"{len(server)} requests; client p95 {percentile(wall, 95):.1f} ms; "
                f"found {found}/{asked}; e.g. «{kind_queries[0][0]}»"
            )
            figures.append(Figure(SCENARIO, f"{kind} p50", percentile(server, 50), "ms"))
            figures.append(Figure(SCENARIO, f"{kind} p95", p95, "ms", target, met, note))
            if found < asked:
                figures.append(
                    Figure(SCENARIO, f"{kind} not found", asked - found, "queries", "≤ 0", False)
                )
    finally:
        client.close()
    return figures
