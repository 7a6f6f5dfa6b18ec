"""Settings of the benchmark server: the product's settings, plus the baseline endpoint's URLs.
Used only by bench/calls/bench.py (never in production)."""

from contactcenter.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
