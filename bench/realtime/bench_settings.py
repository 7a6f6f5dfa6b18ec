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
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "deskbench"},  # noqa: F405
    }
}
