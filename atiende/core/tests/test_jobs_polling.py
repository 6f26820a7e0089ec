"""Job workers on SQLite poll the queue: after a quiet spell a new job must still start soon."""

from atiende.jobs import consumer_options, huey


def test_idle_workers_poll_the_queue_at_least_every_quarter_second():
    # Huey's default backs off to 10 s between polls: a message after a quiet minute waited 10 s.
    consumer = huey.create_consumer(workers=1, worker_type="thread", **consumer_options())
    assert consumer.max_delay <= 0.25
    assert consumer.default_delay <= 0.05
