"""Writes on client records: numbers, do-not-call, the access log."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contactcenter.errors import ApplicationError, Conflict

from ..dialing import is_known_zone
from ..models import CampaignMember, Client, ClientAccessLog, ClientPhone, DoNotCallNumber
from ..selectors import phone_to_e164


class DoNotCallError(Conflict):
    """The client or the number asked never to be called again."""

    code = "do_not_call"


def client_log_access(*, user, client: Client | None, via: str, path: str = "", label: str = "") -> ClientAccessLog:
    """Write who viewed which client record, when and through which view (HR and managers read it)."""
    return ClientAccessLog.objects.create(
        user=user,
        client=client,
        client_label=(label or (client.full_name if client else ""))[:200],
        via=via,
        path=path[:255],
    )


def number_check_dialable(*, number: str) -> str:
    """The E.164 form of a number the center may call; raises DoNotCallError when the number
    is on the do-not-call list or belongs to a do-not-call client (outbound calls of the
    desk, callbacks and campaigns go through this or client_check_dialable)."""
    e164 = phone_to_e164(number)
    if e164 is None:
        raise ApplicationError(_("“%(number)s” is not a valid phone number.") % {"number": number}, code="bad_number")
    if (
        DoNotCallNumber.objects.filter(number=e164).exists()
        or ClientPhone.objects.filter(number=e164, client__do_not_call=True).exists()
    ):
        raise DoNotCallError(_("This number asked never to be called: do not call it."))
    return e164


def client_check_dialable(*, client: Client, number: str | None = None) -> str:
    """The number to dial for a manual call to this client (the given one, or their first);
    raises DoNotCallError for a do-not-call client or number, whatever the caller."""
    if client.do_not_call:
        raise DoNotCallError(_("%(client)s asked never to be called: do not call.") % {"client": client})
    if number:
        e164 = phone_to_e164(number)
        if e164 is None or not client.phones.filter(number=e164).exists():
            raise ApplicationError(_("This number is not one of the client's."), fields={"number": number})
    else:
        e164 = client.phones.order_by("pk").values_list("number", flat=True).first()
        if e164 is None:
            raise ApplicationError(_("This client has no phone number."), code="no_number")
    return number_check_dialable(number=e164)


def client_mark_do_not_call(*, client: Client, by=None, source: str = "") -> Client:
    """Honour a do-not-call request at once and for good: flag the client, put every number
    on the do-not-call list, take the client out of every campaign queue. Safe to repeat."""
    with transaction.atomic():
        # Lock the client first (then its members), as every writer of the flag does.
        client = Client.objects.select_for_update().get(pk=client.pk)
        if not client.do_not_call:
            client.do_not_call = True
            client.save(update_fields=["do_not_call", "updated_at"])
        numbers = list(client.phones.values_list("number", flat=True))
        DoNotCallNumber.objects.bulk_create(
            [DoNotCallNumber(number=n, client=client, source=source[:100], created_by=by) for n in numbers],
            ignore_conflicts=True,
        )
        CampaignMember.objects.filter(client=client).exclude(state=CampaignMember.State.EXCLUDED).update(
            state=CampaignMember.State.EXCLUDED, locked_until=None
        )
    return client


def client_add_phone(*, client: Client, number: str, label: str = "") -> ClientPhone:
    """Give a client one more number. A number identifies at most one client, and a number
    on the do-not-call list cannot be given to a client who may be called."""
    e164 = phone_to_e164(number)
    if e164 is None:
        raise ApplicationError(
            _("“%(number)s” is not a valid phone number.") % {"number": number}, fields={"number": number}
        )
    owner = ClientPhone.objects.filter(number=e164).values_list("client_id", flat=True).first()
    if owner == client.pk:
        return ClientPhone.objects.get(number=e164)
    if owner is not None:
        raise Conflict(_("This number already belongs to another client."), fields={"number": e164})
    if not client.do_not_call and DoNotCallNumber.objects.filter(number=e164).exists():
        raise DoNotCallError(_("This number is on the do-not-call list."), fields={"number": e164})
    try:
        with transaction.atomic():
            return ClientPhone.objects.create(client=client, number=e164, label=label[:30])
    except IntegrityError:
        raise Conflict(_("This number already belongs to another client."), fields={"number": e164}) from None


def client_update(*, client: Client, by=None, **fields) -> Client:
    """Change a client's contact details. The do-not-call flag can be set here, never unset."""
    editable = {
        "full_name",
        "email",
        "address_line",
        "postal_code",
        "city",
        "country",
        "preferred_language",
        "time_zone",
        "current_provider",
        "segment",
        "tags",
        "marketing_consent",
        "notes",
        "do_not_call",
    }
    unknown = set(fields) - editable
    if unknown:
        raise ApplicationError(_("These fields cannot be changed: %s") % ", ".join(sorted(unknown)))
    wants_dnc = fields.pop("do_not_call", None)
    if wants_dnc is False and client.do_not_call:
        raise DoNotCallError(
            _("A do-not-call request is for good: it cannot be withdrawn."), fields={"do_not_call": "true"}
        )
    if fields.get("time_zone") and not is_known_zone(fields["time_zone"]):
        raise ApplicationError(_("Unknown time zone."), fields={"time_zone": fields["time_zone"]})
    with transaction.atomic():
        for name, value in fields.items():
            setattr(client, name, value)
        try:
            client.full_clean(exclude=["preferred_language"])
        except ValidationError as exc:
            raise ApplicationError(_("The client could not be saved."), fields=exc.message_dict) from exc
        client.updated_at = timezone.now()
        client.save(update_fields=[*fields, "updated_at"])
        if wants_dnc:
            client = client_mark_do_not_call(client=client, by=by, source="client record")
    return client
