"""CSV export of the call log (supervisors: their teams' calls; managers: all)."""

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone

COLUMNS = [
    "call_id",
    "direction",
    "queue",
    "caller_number",
    "client_id",
    "agent",
    "state",
    "end_reason",
    "offered_at",
    "answered_at",
    "ended_at",
    "wait_s",
    "talk_s",
    "hold_s",
    "wrap_up_s",
    "handle_s",
    "disposition",
    "escalated",
]


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not text[1:2].isdigit() else text


def _time(value) -> str:
    return timezone.localtime(value).isoformat() if value else ""


def calls_csv_response(calls) -> StreamingHttpResponse:
    """Stream the (already scoped and filtered) calls, 2,000 rows per query, in constant memory."""
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(COLUMNS)
        for call in (
            calls.select_related("queue", "agent__user", "disposition").order_by("pk").iterator(chunk_size=2000)
        ):
            yield writer.writerow(
                [
                    _cell(call.external_id),
                    call.direction,
                    _cell(call.queue.name),
                    call.caller_number,
                    call.client_id or "",
                    _cell(call.agent.user.username) if call.agent_id else "",
                    call.state,
                    call.end_reason,
                    _time(call.offered_at),
                    _time(call.answered_at),
                    _time(call.ended_at),
                    call.wait_s,
                    call.talk_s,
                    call.hold_s,
                    call.wrap_up_s,
                    call.talk_s + call.hold_s + call.wrap_up_s,
                    _cell(call.disposition.code) if call.disposition_id else "",
                    "yes" if call.escalated else "no",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="calls-{stamp}.csv"'
    return response
