"""contactcenter/pushes.py: where a push from synchronous code runs."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.layers import BaseChannelLayer

from contactcenter import pushes


class RecordingLayer(BaseChannelLayer):
    """A channel layer that records the event loop and thread each group_send ran on."""

    sends: list[tuple[str, asyncio.AbstractEventLoop, int]] = []

    async def group_send(self, group, message):
        if message.get("fail"):
            raise ConnectionError("no route")
        self.sends.append((group, asyncio.get_running_loop(), threading.get_ident()))


@pytest.fixture
def layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.RecordingLayer"}}
    RecordingLayer.sends = []
    return RecordingLayer


def test_outside_a_request_every_send_uses_the_one_loop_of_the_process(layer):
    pushes.group_send([("a", {"type": "x"}), ("b", {"type": "x"})])
    pushes.group_send([("c", {"type": "x"})])
    loops = {loop for _group, loop, _thread in layer.sends}
    threads = {thread for _group, _loop, thread in layer.sends}
    assert [group for group, _loop, _thread in layer.sends] == ["a", "b", "c"]
    # async_to_sync would have made a loop (and the Redis layers a connection) per call.
    assert loops == {pushes.process_loop()}
    assert threading.get_ident() not in threads


def test_a_failed_send_is_returned_and_logged_and_the_others_go_out(layer, caplog):
    results = pushes.group_send([("a", {"type": "x", "fail": True}), ("b", {"type": "x"})])
    assert isinstance(results[0], ConnectionError)
    assert results[1] is None
    assert [group for group, _loop, _thread in layer.sends] == ["b"]
    assert [record.getMessage() for record in caplog.records] == ["push to a failed: ConnectionError('no route')"]


def test_a_layer_that_cannot_be_reached_fails_no_caller(layer, monkeypatch, caplog):
    def unreachable(coroutine, loop):
        coroutine.close()
        raise OSError("connection refused")

    monkeypatch.setattr(pushes.asyncio, "run_coroutine_threadsafe", unreachable)
    results = pushes.group_send([("a", {"type": "x"}), ("b", {"type": "x"})])
    assert [type(result) for result in results] == [OSError, OSError]
    assert "pushes to a, b failed" in caplog.text


def test_inside_an_asgi_request_the_send_goes_to_the_servers_loop(layer):
    async def server():
        # A view runs in a thread of the server's loop, as the ASGI handler runs it.
        await sync_to_async(pushes.group_send, thread_sensitive=False)([("a", {"type": "x"})])
        return asyncio.get_running_loop()

    server_loop = asyncio.run(server())
    ((_group, loop, _thread),) = layer.sends
    assert loop is server_loop
    assert loop is not pushes.process_loop()


def test_a_forked_process_starts_its_own_loop(layer, monkeypatch):
    parent = pushes.process_loop()
    monkeypatch.setattr(pushes, "_loop_pid", -1)  # as seen from a child after fork
    child = pushes.process_loop()
    assert child is not parent and child.is_running()
    pushes.group_send([("a", {"type": "x"})])
    assert layer.sends[0][1] is child
