"""One ASGI application for HTTP and WebSockets.

Every WebSocket goes through the allowed-hosts origin check and the session
authentication stack; each app's consumers then refuse anonymous users.

HTTP requests run through SyncChainASGIHandler: the middleware chain and the view run
as under WSGI, in the request's own thread, entered once per request.
"""

import importlib
import os

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")
# Django must be set up before anything imports models (consumers do).
django.setup(set_prefix=False)


class SyncChainASGIHandler(ASGIHandler):
    """Django's ASGI handler with the synchronous middleware chain of its WSGI handler.

    Django's own ASGI handler builds an async chain. Every sync-only middleware then adapts
    the rest of the chain with async_to_sync. Every async-capable MiddlewareMixin runs its
    process_request and process_response through sync_to_async, and so do the view
    middleware and the sync view. Each of these switches between the event loop and the
    request's thread, about seven per request with this project's middleware. Every view
    and middleware here is synchronous, so the whole chain runs in one sync_to_async call
    instead. It stays thread-sensitive, so the request keeps one thread throughout: the one
    that also runs its request_started and request_finished signals."""

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)


django_asgi_app = SyncChainASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

# Apps that serve WebSockets list their routes in <app>/routing.py.
WEBSOCKET_APPS = ["calls"]


def websocket_urlpatterns():
    patterns = []
    for app in WEBSOCKET_APPS:
        try:
            module = importlib.import_module(f"{app}.routing")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.routing":
                raise
            continue
        patterns += module.websocket_urlpatterns
    return patterns


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns()))),
    }
)
