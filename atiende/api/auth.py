from django.http import HttpRequest
from ninja.security import HttpBearer

from atiende.users.services import authenticate_api_token


class BearerToken(HttpBearer):
    """`Authorization: Bearer atk_…`: a personal token created in Ajustes → Tokens de API."""

    def authenticate(self, request: HttpRequest, token: str):
        user = authenticate_api_token(token)
        if user is not None:
            request.user = user
        return user
