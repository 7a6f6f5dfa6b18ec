"""Django's Redis cache with one connection pool per process, shared by every request.

Django keeps a cache backend instance per thread and per async context, and each
RedisCache instance opens its own connection pool. Under ASGI every request runs in a
new context, so every request opened a new connection to Redis and dropped it after
(django/django#18459). Here the pools live in one map per process, keyed by server and
options. redis-py's pools are thread-safe, and a pool notices a fork and reconnects in
the child, so Celery workers and uvicorn worker processes stay correct."""

import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

_pools: dict[tuple[str, str], object] = {}
_pools_lock = threading.Lock()


class SharedPoolRedisCacheClient(RedisCacheClient):
    def _get_connection_pool(self, write):
        index = self._get_connection_pool_index(write)
        key = (self._servers[index], repr((self._pool_class, sorted(self._pool_options.items()))))
        pool = _pools.get(key)
        if pool is None:
            with _pools_lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = self._pool_class.from_url(self._servers[index], **self._pool_options)
        return pool


class RedisCache(DjangoRedisCache):
    """settings.CACHES backend "contactcenter.cache.RedisCache": Django's, with shared pools."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient
