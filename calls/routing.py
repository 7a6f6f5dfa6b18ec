"""The calls app's WebSocket routes (loaded by contactcenter/asgi.py)."""

from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/desk/", consumers.DeskConsumer.as_asgi()),
    path("ws/wallboard/", consumers.WallboardConsumer.as_asgi()),
]
