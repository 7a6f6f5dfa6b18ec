"""Each role lands where it works; sign-in, lockout and password change."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "landing"),
    [
        ("agent_alice", "/desk/"),
        ("supervisor_sam", "/dashboard/"),
        ("manager_mia", "/dashboard/"),
        ("hr_hana", "/admin/"),
        ("trainer_tom", "/admin/"),
        ("qa_quinn", "/qa/"),
    ],
)
def test_home_sends_each_role_to_its_page(request, client, who, landing):
    person = request.getfixturevalue(who)
    client.force_login(getattr(person, "user", person))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == landing
    assert client.get(landing, follow=True).status_code == 200


def test_anonymous_home_goes_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_qa_analysts_land_on_quality(client, qa_quinn):
    client.force_login(qa_quinn)
    assert client.get("/").headers["Location"] == reverse("qa:home")


def test_login_with_the_real_password(client, agent_alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    assert client.get("/").headers["Location"] == "/desk/"


def test_repeated_failed_logins_lock_the_account(client, agent_alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
        assert response.status_code == 200
        assert "alert" in response.content.decode()
    assert client.post(reverse("login"), {"username": "alice", "password": "wrong"}).status_code == 429
    locked = client.post(reverse("login"), {"username": "alice", "password": "pw"})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()


def test_password_change(client, agent_alice):
    client.force_login(agent_alice.user)
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw", "new_password1": "Kx9!long-enough", "new_password2": "Kx9!long-enough"},
    )
    assert response.status_code == 302
    agent_alice.user.refresh_from_db()
    assert agent_alice.user.check_password("Kx9!long-enough")


def test_password_change_mismatch_is_a_form_error(client, agent_alice):
    client.force_login(agent_alice.user)
    response = client.post(
        reverse("password_change"), {"old_password": "pw", "new_password1": "Kx9!long-enough", "new_password2": "x"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors


def test_french_interface(client, agent_alice):
    client.force_login(agent_alice.user)
    url = reverse("agents:agent-detail", args=[agent_alice.pk])
    page = client.get(url, headers={"accept-language": "fr"}).content.decode()
    assert "Compétences" in page and "Poste" in page  # the page and the layout's navigation
