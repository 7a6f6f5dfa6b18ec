"""Sending to the channel layer from synchronous code, with the layer's connections kept.

Inside an ASGI request (a view's thread, which asgiref runs for the server's event loop),
a send goes to the server's event loop, as async_to_sync does. Anywhere else (a Celery
worker, a management command, a script driving the services) there is no loop to go to:
async_to_sync would make a new event loop in a new thread for every call, and the Redis
channel layers keep their connections per event loop, so every push would connect to Redis,
send one message and close. There, sends go to one event loop per process, which runs in a
daemon thread as long as the process does, and keeps the layer's connections between pushes.

The in-memory layer (single-process mode and tests) is process-local and its queues belong
to whoever waits on them: sends to it keep going through async_to_sync."""

import asyncio
import logging
import os
import threading

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

# A send that has not gone out after this long is given up (and logged): a push is
# never worth holding a worker for; desks and wallboards resync from the API.
SEND_TIMEOUT_S = 10

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
_loop_lock = threading.Lock()


def process_loop() -> asyncio.AbstractEventLoop:
    """This process's sending loop, started on first use (and again in a forked child, where
    the parent's thread does not exist)."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="channel-layer-sends", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop this thread works for, if it is an ASGI request's thread
    (asgiref's sync_to_async records it; the same test async_to_sync makes)."""
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid() or not loop.is_running():
        return None
    return loop


def group_send(messages: list[tuple[str, dict]]) -> list[BaseException | None]:
    """Send each (group, message), concurrently; wait until all are sent. Returns, per message,
    None or the exception its send raised. A push that fails is logged, never raised: it is sent
    after the commit of what it announces, the state is in the database, and a desk or
    wallboard resyncs from the API."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return [None] * len(messages)

    async def send_all():
        results = await asyncio.gather(
            *[layer.group_send(group, message) for group, message in messages], return_exceptions=True
        )
        return [result if isinstance(result, BaseException) else None for result in results]

    try:
        if isinstance(layer, InMemoryChannelLayer) or _server_loop() is not None:
            results = async_to_sync(send_all)()
        else:
            future = asyncio.run_coroutine_threadsafe(send_all(), process_loop())
            try:
                results = future.result(SEND_TIMEOUT_S)
            except TimeoutError:
                future.cancel()
                raise
    except Exception as exc:  # a broken channel layer must not fail the request that committed
        logger.exception("pushes to %s failed", ", ".join(group for group, _message in messages))
        return [exc] * len(messages)
    for (group, _message), result in zip(messages, results, strict=True):
        if result is not None:
            logger.error("push to %s failed: %r", group, result)
    return results
