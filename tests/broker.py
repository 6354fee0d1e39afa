"""The real broker in tests: the app's queues on the Redis of CELERY_BROKER_URL, emptied and read back.

A test that enqueues takes the `broker` fixture (tests/conftest.py): every queue the app sends to is purged before
and after the test, and `broker.sent()` takes from Redis the messages job_enqueue really sent, decoded as a worker
receives them (Celery protocol 2: the task name and id in the headers, the args in the body). Tests that start a
worker purge the same queues first, so nothing an earlier test left behind reaches it.
"""
from dataclasses import dataclass
from typing import Any

from kombu import Connection, Queue

from config.celery import app
from curation.services.job_kinds import JOB_KINDS


def app_queues() -> tuple[str, ...]:
    """Every queue the app sends to: its job kinds' queues, the beat tasks' and the default queue.

    app.control.purge() alone empties only the default queue (the app declares no CELERY_TASK_QUEUES).
    """
    names = {kind.queue for kind in JOB_KINDS.values()}
    names |= {entry.get("options", {}).get("queue", app.conf.task_default_queue)
              for entry in app.conf.beat_schedule.values()}
    names.add(app.conf.task_default_queue)
    return tuple(sorted(names))


def queues_purge(connection: Connection) -> int:
    """Delete every message waiting in the app's queues, and the Redis transport's record of messages delivered but
    not acknowledged (a killed worker's task, which a later worker would restore); the number of waiting ones deleted.

    Call it only while no worker of the tests runs: the unacknowledged record is shared by every queue of the database.
    """
    channel = connection.default_channel
    deleted = sum(Queue(name, channel=channel).purge() or 0 for name in app_queues())
    if hasattr(channel, "unacked_key"):  # the Redis transport (the tests' broker)
        channel.client.delete(channel.unacked_key, channel.unacked_index_key, channel.unacked_mutex_key)
    return deleted


@dataclass(frozen=True)
class SentTask:
    """One message as it sat in a queue."""

    name: str
    args: list[Any]
    kwargs: dict[str, Any]
    id: str
    queue: str


class Broker:
    """The app's queues in the real broker, for one test."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.queues = app_queues()
        self._taken: list[SentTask] = []

    def purge(self) -> int:
        return queues_purge(self.connection)

    def sent(self, queue: str | None = None) -> list[SentTask]:
        """Every message sent during the test (to `queue` if given), oldest first within each queue.

        Messages are taken off the broker (so no worker of a later test gets them) and kept here, so a second call
        returns them again with whatever was sent since.
        """
        channel = self.connection.default_channel
        for name in self.queues:
            waiting = Queue(name, channel=channel)
            while (message := waiting.get(no_ack=True)) is not None:
                args, kwargs, _embed = message.decode()
                self._taken.append(SentTask(name=message.headers["task"], args=args, kwargs=kwargs,
                                            id=message.headers["id"], queue=name))
        return [task for task in self._taken if queue is None or task.queue == queue]
