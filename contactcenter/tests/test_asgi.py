"""The ASGI application's HTTP side: Django's middleware chain and view, run as under WSGI."""

import threading

import pytest
from asgiref.sync import AsyncToSync
from asgiref.testing import ApplicationCommunicator

from contactcenter.asgi import application


def http_scope(path: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def get(path: str) -> tuple[dict, bytes]:
    communicator = ApplicationCommunicator(application, http_scope(path))
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(10)
    body = b""
    while True:
        message = await communicator.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(10)
    return start, body


@pytest.mark.django_db(transaction=True)
async def test_a_page_runs_its_middleware_and_view_in_one_thread_without_going_back_to_the_loop(monkeypatch):
    # Django's async chain would go back to the event loop (async_to_sync) below the first
    # sync-only middleware, and hop threads again for the view.
    back_to_loop = []
    real_call = AsyncToSync.__call__

    def counting(self, *args, **kwargs):
        back_to_loop.append(self)
        return real_call(self, *args, **kwargs)

    monkeypatch.setattr(AsyncToSync, "__call__", counting)
    threads = set()
    from agents.middleware import UserTimezoneMiddleware

    real_middleware = UserTimezoneMiddleware.__call__

    def recording(self, request):
        threads.add(threading.get_ident())
        response = real_middleware(self, request)
        threads.add(threading.get_ident())
        return response

    monkeypatch.setattr(UserTimezoneMiddleware, "__call__", recording)

    start, body = await get("/accounts/login/")

    assert start["status"] == 200
    headers = {name.lower(): value for name, value in start["headers"]}
    assert headers[b"x-frame-options"] == b"DENY"  # the innermost middleware ran
    assert b"csrfmiddlewaretoken" in body  # so did the view, with its CSRF token
    assert back_to_loop == []
    assert len(threads) == 1
    assert threading.get_ident() not in threads  # not on the event loop's thread


@pytest.mark.django_db(transaction=True)
async def test_an_unknown_page_is_a_404_through_the_same_chain():
    start, _body = await get("/no-such-page/")
    assert start["status"] == 404
