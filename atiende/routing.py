from django.urls import path

from atiende.users.consumers import AgentSocketConsumer

websocket_urlpatterns = [
    path("ws/", AgentSocketConsumer.as_asgi()),
]
