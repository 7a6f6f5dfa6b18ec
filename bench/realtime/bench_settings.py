"""Settings of the realtime benchmark's ASGI servers: the product's, with the channel layer
chosen by BENCH_LAYER (core or pubsub). Used only by bench/realtime/bench.py."""

import os

from contactcenter.settings import *  # noqa: F403

_LAYERS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": _LAYERS[os.environ.get("BENCH_LAYER", "core")],
        # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s the core layer's
        # BZPOPMIN blocks for: a consumer that hears nothing for 5 s then dies with
        # "Timeout reading". A longer socket timeout keeps quiet sockets alive.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "prefix": "deskbench"},  # noqa: F405
    }
}
