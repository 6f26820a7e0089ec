import pytest
from django.core.cache import cache

from atiende.connectors.whatsapp.tests.graph_server import start_graph_server
from atiende.connectors.whatsapp.tests.wa_data import make_whatsapp_channel


@pytest.fixture
def graph():
    state, server = start_graph_server()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def wa_channel(db, graph):
    cache.clear()
    return make_whatsapp_channel(graph.url)


@pytest.fixture
def fast_retries(settings):
    settings.ATIENDE_SEND_ATTEMPTS = 3
    settings.ATIENDE_SEND_BACKOFF_SECONDS = 0
