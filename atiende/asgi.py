"""ASGI entry point: HTTP through Django (provider webhook POSTs through `core.asgi_webhooks`),
WebSocket through Channels; lifespan records the loop."""

import asyncio
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atiende.settings")
django_http = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402

from atiende.core import asgi_webhooks, realtime  # noqa: E402
from atiende.routing import (  # noqa: E402
    visitor_websocket_urlpatterns,
    websocket_urlpatterns,
)

agent_sockets = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
# The website chat is embedded on customers' sites: no same-host origin check, cookies only.
visitor_sockets = CookieMiddleware(URLRouter(visitor_websocket_urlpatterns))


async def websocket_app(scope, receive, send):
    if scope["path"].startswith("/ws/webchat/"):
        return await visitor_sockets(scope, receive, send)
    return await agent_sockets(scope, receive, send)


channels_app = ProtocolTypeRouter({"http": django_http, "websocket": websocket_app})


async def application(scope, receive, send):
    """Answer the lifespan protocol so `core.realtime` knows the server's event loop."""
    if asgi_webhooks.handles(scope):
        return await asgi_webhooks.app(scope, receive, send)
    if scope["type"] != "lifespan":
        return await channels_app(scope, receive, send)
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            realtime.set_server_loop(asyncio.get_running_loop())
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            realtime.set_server_loop(None)
            await send({"type": "lifespan.shutdown.complete"})
            return
