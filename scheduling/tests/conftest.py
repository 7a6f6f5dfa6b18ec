import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English: a page requested in French (LocaleMiddleware)
    leaves French active in the test thread, so each test starts from English."""
    with translation.override("en"):
        yield
