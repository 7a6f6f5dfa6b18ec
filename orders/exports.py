"""CSV export of the back-office order list (managers only)."""

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone

COLUMNS = [
    "reference",
    "status",
    "client",
    "offer_or_service",
    "address_line",
    "postal_code",
    "city",
    "country",
    "scheduled_date",
    "visit_from",
    "visit_to",
    "amount",
    "payment_method",
    "agent",
    "created_at",
]


class _Echo:
    def write(self, value):
        return value


def orders_csv_response(orders) -> StreamingHttpResponse:
    """Stream the (already filtered and scoped) orders as CSV, a chunk of rows at a time."""
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(COLUMNS)
        for order in orders.order_by("pk").iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    order.reference,
                    order.status,
                    order.client.full_name,
                    order.what,
                    order.address_line,
                    order.postal_code,
                    order.city,
                    order.country,
                    order.scheduled_date or "",
                    order.visit_from or "",
                    order.visit_to or "",
                    order.amount,
                    order.payment_method,
                    order.agent.user.username if order.agent_id else "",
                    timezone.localtime(order.created_at).isoformat(timespec="minutes"),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="orders-{timezone.localdate():%Y%m%d}.csv"'
    return response
