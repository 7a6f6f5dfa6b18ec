"""A QA analyst scores a call with the keyboard only, in a real browser."""

import pytest

from qa import services
from qa.models import Review
from qa.tests.factories import CallFactory, make_scorecard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_scoring_a_call_with_the_keyboard_only(live_asgi_server, browser, agent_alice):
    from agents.tests.factories import UserFactory

    make_scorecard()
    analyst = UserFactory(username="kim", first_name="Kim", roles=["qa_analyst"])
    review = services.review_start(reviewer=analyst, call_id=CallFactory(agent=agent_alice).pk)
    page = browser.new_page()
    page.goto(f"{live_asgi_server}/accounts/login/?next=/qa/reviews/{review.pk}/score/")
    page.fill("#id_username", "kim")
    page.fill("#id_password", "pw")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_asgi_server}/qa/reviews/{review.pk}/score/")
    # The first criterion has the focus; each answer moves on to the next criterion.
    assert page.evaluate("document.activeElement.name").startswith("c")
    for key in ("y", "n", "3", "y"):
        page.keyboard.press(key)
    # After the last criterion the focus is on the overall comment.
    assert page.evaluate("document.activeElement.id") == "comment"
    page.keyboard.type("Identity not checked.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"{live_asgi_server}/qa/reviews/{review.pk}/")
    review = Review.objects.get(pk=review.pk)
    # 1 + 0 + 3×(3/4) + 1 = 4.25 of 7 → 60.71
    assert (review.status, str(review.score_pct), review.comment) == ("submitted", "60.71", "Identity not checked.")
    assert "60.71" in page.inner_text(".big-score")
