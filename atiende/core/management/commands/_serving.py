import os


def uvicorn_options(*, host: str, port: int) -> dict:
    """One uvicorn setup for `web` and `run`: our ASGI app, its lifespan, Django's logging."""
    return {
        "app": "atiende.asgi:application",
        "host": host,
        "port": port,
        "lifespan": "on",
        "log_config": None,
        "proxy_headers": True,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        # A socket whose pong is late is closed, and its queued events with it: a busy browser (or
        # a server loop fanning out a burst) may answer late, so the wait is 60 s, not uvicorn's 20.
        "ws_ping_interval": float(os.environ.get("ATIENDE_WS_PING_INTERVAL", "20")),
        "ws_ping_timeout": float(os.environ.get("ATIENDE_WS_PING_TIMEOUT", "60")),
        # Events are a few hundred bytes of JSON: compressing each one for each socket cost more
        # than sending it (the largest share of the loop with 200 agents' sockets).
        "ws_per_message_deflate": False,
    }


def add_server_arguments(parser) -> None:
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
