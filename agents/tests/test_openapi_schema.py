"""The published OpenAPI schema is valid and generated without a warning."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_is_valid_and_has_no_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/telephony/events/", "/api/agents/", "/api/clients/", "/api/orders/", "/api/staffing/"):
        assert path in text


def test_swagger_ui_is_served_locally(client, django_user_model, db):
    user = django_user_model.objects.create_user("reader", password="pw")
    client.force_login(user)
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
