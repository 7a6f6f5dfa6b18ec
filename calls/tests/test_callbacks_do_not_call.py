"""Do-not-call holds for callbacks too: the center never calls back a number that asked not
to be called, whichever way the callback would arise."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from calls import services
from calls.models import Call, Callback
from calls.tests.factories import offer
from clients.models import Client, ClientPhone, DoNotCallNumber
from clients.services.clients import DoNotCallError

pytestmark = pytest.mark.django_db


def abandon_after_a_long_wait(queue):
    call = offer(queue, at=timezone.now() - timedelta(seconds=60))
    with transaction.atomic():
        services._call_abandon(call=Call.objects.get(pk=call.pk), now=timezone.now(), cause="test")
    return call


def test_a_dialable_caller_who_hangs_up_is_called_back(queue):
    abandon_after_a_long_wait(queue)
    assert Callback.objects.count() == 1


def test_no_callback_to_a_do_not_call_client(queue):
    call = offer(queue)
    client = Client.objects.create(full_name="Ne Pas Appeler", do_not_call=True)
    ClientPhone.objects.create(client=client, number=call.caller_number)
    with transaction.atomic():
        services._call_abandon(call=Call.objects.get(pk=call.pk), now=timezone.now() + timedelta(seconds=60), cause="t")
    assert not Callback.objects.exists()


def test_no_callback_to_a_number_on_the_do_not_call_list(queue):
    call = offer(queue)
    DoNotCallNumber.objects.create(number=call.caller_number)
    with transaction.atomic():
        services._call_abandon(call=Call.objects.get(pk=call.pk), now=timezone.now() + timedelta(seconds=60), cause="t")
    assert not Callback.objects.exists()


def test_an_agents_follow_up_to_a_do_not_call_number_is_refused(queue):
    DoNotCallNumber.objects.create(number="+33612345678")
    with pytest.raises(DoNotCallError):
        services._callback_create(
            kind=Callback.Kind.FOLLOW_UP,
            number="+33612345678",
            queue=queue,
            due_at=timezone.now() + timedelta(hours=1),
            now=timezone.now(),
        )
    assert not Callback.objects.exists()
