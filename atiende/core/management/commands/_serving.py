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
        "ws_ping_interval": 20,
        # Events are a few hundred bytes of JSON: compressing each one for each socket cost more
        # than sending it (the largest share of the loop with 200 agents' sockets).
        "ws_per_message_deflate": False,
    }


def add_server_arguments(parser) -> None:
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
