"""Django's Redis cache with one client, and its connection pools, per process.

Django keeps a cache backend instance per thread and per async context, and each
RedisCache instance builds its own client, which opens its own connection pool and makes
a new redis.Redis object for every operation. Under ASGI every request runs in a new
context, so every request opened a new connection to Redis and dropped it after
(django/django#18459), and paid for building the client again. Here the clients live in
one map per process, keyed by servers and options, and each keeps one redis.Redis per
pool. redis-py's clients and pools are thread-safe, and a pool notices a fork and
reconnects in the child, so Celery workers and uvicorn worker processes stay correct."""

import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple[tuple[str, ...], str], "SharedRedisCacheClient"] = {}
_clients_lock = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
    """Django's client, with one redis.Redis per connection pool instead of one per operation."""

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._redis_by_pool = {}
        self._lock = threading.Lock()

    def _get_connection_pool(self, write):
        index = self._get_connection_pool_index(write)
        pool = self._pools.get(index)
        if pool is None:
            with self._lock:  # a shared client: two threads must not make two pools
                pool = self._pools.get(index)
                if pool is None:
                    pool = self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
        return pool

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._redis_by_pool.get(id(pool))
        if client is None:
            client = self._redis_by_pool.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    """settings.CACHES backend "contactcenter.cache.RedisCache": Django's, with a shared client."""

    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        client = _clients.get(key)
        if client is None:
            with _clients_lock:
                client = _clients.get(key)
                if client is None:
                    client = _clients[key] = SharedRedisCacheClient(self._servers, **self._options)
        return client
