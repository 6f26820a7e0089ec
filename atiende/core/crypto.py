"""Secrets at rest (channel credentials): Fernet with a key from the environment.

`ATIENDE_ENCRYPTION_KEY` (a Fernet key) wins; else one is derived from SECRET_KEY, so changing
SECRET_KEY without setting the former makes stored credentials unreadable.
"""

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@cache
def _fernet(key: str) -> Fernet:
    if settings.ATIENDE_ENCRYPTION_KEY:
        return Fernet(settings.ATIENDE_ENCRYPTION_KEY.encode())
    digest = hashlib.sha256(("atiende-credentials:" + key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_json(data: dict[str, Any]) -> str:
    return _fernet(settings.SECRET_KEY).encrypt(json.dumps(data).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_fernet(settings.SECRET_KEY).decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("credentials cannot be decrypted with the current key") from exc
