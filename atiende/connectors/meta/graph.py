"""A small client for Meta's Graph API, shared by the WhatsApp, Messenger and Instagram connectors.

Standard library only (urllib): every call raises `GraphError` on failure, with Meta's error code
and whether trying again later may help.
"""

import hashlib
import hmac
import json as jsonlib
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

# Meta's throttling codes: the same request may succeed a little later.
RATE_LIMIT_CODES = frozenset({"4", "17", "32", "613", "80007", "130429", "131056"})


class GraphError(Exception):
    """Meta refused (or could not be reached). `code` is Meta's error code as text ("" if none)."""

    def __init__(
        self, message: str, *, status: int = 0, code: str = "", retryable: bool | None = None
    ):
        super().__init__(message)
        self.status = status
        self.code = str(code or "")
        self.message = message
        if retryable is None:
            retryable = status == 0 or status >= 500 or self.code in RATE_LIMIT_CODES
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"GraphError(status={self.status}, code={self.code!r}, message={self.message!r})"


def _error_from_body(status: int, raw: bytes) -> GraphError:
    code, message = "", ""
    try:
        error = jsonlib.loads(raw.decode("utf-8", "replace")).get("error") or {}
        code = str(error.get("code") or "")
        data = error.get("error_data") or {}
        details = data.get("details") if isinstance(data, dict) else ""
        message = str(error.get("error_user_msg") or error.get("message") or details or "")
        if details and details not in message:
            message = f"{message} ({details})" if message else str(details)
    except (ValueError, AttributeError):
        message = raw[:200].decode("utf-8", "replace")
    return GraphError(message or f"HTTP {status}", status=status, code=code)


class GraphClient:
    def __init__(self, *, base_url: str, version: str, token: str, timeout: float = 10) -> None:
        self.base_url = (base_url or "https://graph.facebook.com").rstrip("/")
        self.version = (version or "").strip("/")
        self.token = token
        self.timeout = timeout

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        prefix = f"{self.base_url}/{self.version}" if self.version else self.base_url
        return f"{prefix}/{path.lstrip('/')}"

    def _request(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raw = exc.read() if exc.fp else b""
            raise _error_from_body(exc.code, raw) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise GraphError(f"network error: {exc}", status=0) from exc

    @staticmethod
    def _json(raw: bytes) -> dict[str, Any]:
        if not raw:
            return {}
        try:
            data = jsonlib.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise GraphError("invalid JSON from the Graph API", status=200) from exc
        return data if isinstance(data, dict) else {"data": data}

    def get(self, path: str, params: dict | None = None) -> dict:
        url = self.url(path)
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params, doseq=True)
        raw, _ = self._request("GET", url)
        return self._json(raw)

    def post(
        self,
        path: str,
        json: dict | None = None,
        data: dict | None = None,
        files: dict | None = None,
    ) -> dict:
        """POST JSON, a form (`data`), or multipart: `files` = {field: (name, bytes, mime)}."""
        if files:
            body, content_type = _multipart(data or {}, files)
        elif json is not None:
            body, content_type = jsonlib.dumps(json).encode("utf-8"), "application/json"
        else:
            body = urllib.parse.urlencode(data or {}).encode("ascii")
            content_type = "application/x-www-form-urlencoded"
        raw, _ = self._request("POST", self.url(path), body, {"Content-Type": content_type})
        return self._json(raw)

    def download(self, url: str) -> tuple[bytes, str]:
        """Fetch a media URL with the bearer token: (bytes, content type)."""
        raw, content_type = self._request("GET", self.url(url))
        return raw, content_type.split(";")[0].strip()


def _multipart(fields: Mapping[str, Any], files: Mapping[str, Any]) -> tuple[bytes, str]:
    boundary = "atiende" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, spec in files.items():
        filename, content, mime = (*tuple(spec), "application/octet-stream")[:3]
        safe = str(filename).replace('"', "").replace("\r", "").replace("\n", "")
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{safe}"\r\n'
            f"Content-Type: {mime}\r\n\r\n".encode()
            + bytes(content)
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """X-Hub-Signature-256: "sha256=" + HMAC-SHA256 (hex) of the raw request bytes."""
    if not header or not app_secret or not isinstance(header, str):
        return False
    scheme, _, received = header.strip().partition("=")
    if scheme.lower() != "sha256" or not received:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.strip().lower())


def handshake(params: Mapping[str, Any], verify_token: str) -> str | None:
    """Webhook verification: hub.mode=subscribe and hub.verify_token matching → the challenge."""
    if not verify_token:
        return None
    if params.get("hub.mode") != "subscribe":
        return None
    token = params.get("hub.verify_token") or ""
    if not hmac.compare_digest(str(token).encode(), str(verify_token).encode()):
        return None
    challenge = params.get("hub.challenge")
    return str(challenge) if challenge is not None else None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        # "\ud800" escapes decode to lone surrogates, which no database driver can encode.
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def parse_webhook_body(raw_body: bytes) -> Any:
    """Strict JSON of a webhook body, storable by both databases: NaN/Infinity (which Python
    accepts and no database stores as JSON) are refused like any malformed body, NUL characters
    (which PostgreSQL cannot store in text or jsonb) are dropped and lone surrogates replaced."""
    return _without_nul(jsonlib.loads(raw_body.decode("utf-8"), parse_constant=_refuse_constant))
