"""The Redis cache backend shares one client, and its connection pools, per process (no
Redis needed: pools connect lazily)."""

import threading

from django.core.cache import caches
from django.test import override_settings

from contactcenter.cache import RedisCache

URL = "redis://127.0.0.1:6379/7"


def pool_of(cache):
    return cache._cache.get_client(write=True).connection_pool


def test_backend_instances_for_the_same_server_share_one_pool():
    first, second = RedisCache(URL, {}), RedisCache(URL, {})
    assert pool_of(first) is pool_of(second)
    assert pool_of(RedisCache("redis://127.0.0.1:6379/8", {})) is not pool_of(first)
    # Other options, another pool.
    assert pool_of(RedisCache(URL, {"OPTIONS": {"socket_timeout": 3}})) is not pool_of(first)


@override_settings(CACHES={"default": {"BACKEND": "contactcenter.cache.RedisCache", "LOCATION": URL}})
def test_each_thread_has_its_own_backend_but_all_share_the_pool():
    # Django keeps a backend per thread (and per async context: per ASGI request).
    seen = []

    def use_the_cache():
        seen.append((caches["default"], pool_of(caches["default"])))

    threads = [threading.Thread(target=use_the_cache) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (backend_a, pool_a), (backend_b, pool_b) = seen
    assert backend_a is not backend_b
    assert pool_a is pool_b


def test_every_operation_of_every_backend_uses_the_same_redis_client():
    # Django's client makes a redis.Redis per operation; building one costs more than a GET.
    first, second = RedisCache(URL, {}), RedisCache(URL, {})
    client = first._cache.get_client(write=True)
    assert first._cache.get_client(write=True) is client
    assert second._cache.get_client(write=False) is client  # one server: reads use it too
