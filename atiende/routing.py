from django.urls import path

from atiende.connectors.webchat.consumers import VisitorSocketConsumer
from atiende.users.consumers import AgentSocketConsumer

# Agents' sockets: same-site only (origin checked), authenticated by the session.
websocket_urlpatterns = [
    path("ws/", AgentSocketConsumer.as_asgi()),
]

# Website-chat visitors: the widget runs on other sites, so no same-origin check here; the
# consumer checks the channel's public key, its allowed origins and the signed visitor cookie.
visitor_websocket_urlpatterns = [
    path("ws/webchat/<str:public_key>/", VisitorSocketConsumer.as_asgi()),
]
