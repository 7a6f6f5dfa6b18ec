"""CSV export of clients: managers only, written to the access log."""

import csv

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ClientAccessLog
from .services import client_log_access

EXPORT_COLUMNS = [
    "id",
    "full_name",
    "phones",
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
    "do_not_call",
    "marketing_consent",
]


def clients_csv_response(clients, *, user, path: str) -> HttpResponse:
    """Stream clients as CSV (the import's columns) and log the export. Managers only:
    callers check the role; this writes one access-log row for the whole export."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="clients-{timezone.localdate():%Y%m%d}.csv"'
    writer = csv.writer(response)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for client in clients.prefetch_related("phones").order_by("pk").iterator(chunk_size=2000):
        count += 1
        writer.writerow(
            [
                client.pk,
                client.full_name,
                ";".join(p.number for p in client.phones.all()),
                client.email,
                client.address_line,
                client.postal_code,
                client.city,
                client.country,
                client.preferred_language_id or "",
                client.time_zone,
                client.current_provider,
                client.segment,
                client.tags,
                "yes" if client.do_not_call else "no",
                "yes" if client.marketing_consent else "no",
            ]
        )
    client_log_access(
        user=user,
        client=None,
        via=ClientAccessLog.Via.EXPORT,
        path=path,
        label=_("%(count)d clients exported") % {"count": count},
    )
    return response
