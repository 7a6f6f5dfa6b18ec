"""Weeks, days and half-hours of the center, and the planning settings.

The center's day is its TIME_ZONE's calendar day (not the viewer's): shifts, forecasts
and coverage are planned in it, and stored in UTC. A day has 48 half-hours, 46 or 50 on
the days the clocks change: the half-hours are always 30 minutes of real time, from local
midnight to the next.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

HALF_HOUR = timedelta(minutes=30)


def center_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- Planning settings (the lead's settings module may set them; these are the defaults) ---


def shrinkage() -> float:
    """Fraction of paid time not on the phones: breaks, training, meetings, absence."""
    return float(getattr(settings, "SCHEDULING_SHRINKAGE", 0.30))


def max_occupancy() -> float:
    """The highest fraction of time agents may spend on calls when staffing a half-hour."""
    return float(getattr(settings, "SCHEDULING_MAX_OCCUPANCY", 0.85))


def forecast_weights() -> tuple[int, ...]:
    """Weights of the same weekday 1, 2, 3… weeks back: the most recent weighs most."""
    return tuple(getattr(settings, "SCHEDULING_FORECAST_WEIGHTS", (4, 3, 2, 1)))


def dayoff_deadline_rule() -> tuple[int, time]:
    """The usual deadline for requests about a week: (days before its Monday, local time).
    Default: Wednesday noon of the week before (5 days before Monday, 12:00)."""
    days = int(getattr(settings, "SCHEDULING_DAYOFF_DEADLINE_DAYS_BEFORE", 5))
    at = time.fromisoformat(getattr(settings, "SCHEDULING_DAYOFF_DEADLINE_TIME", "12:00"))
    return days, at


def dayoff_horizon_weeks() -> int:
    """How many weeks ahead an agent may ask for days off."""
    return int(getattr(settings, "SCHEDULING_DAYOFF_HORIZON_WEEKS", 8))


def dayoff_reminder_lead() -> timedelta:
    """How long before the deadline the reminder goes out."""
    return timedelta(hours=int(getattr(settings, "SCHEDULING_DAYOFF_REMINDER_HOURS", 48)))


# --- Days and weeks ----------------------------------------------------------------------


def local_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), center_zone()).date()


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_days(week_start: date) -> list[date]:
    return [week_start + timedelta(days=i) for i in range(7)]


def local_datetime(day: date, at: time) -> datetime:
    """The aware datetime of a local date and time in the center's zone (a time that the
    clocks skip is read with the offset before the change)."""
    return datetime.combine(day, at, tzinfo=center_zone())


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC start and end of a local day."""
    return local_datetime(day, time(0)), local_datetime(day + timedelta(days=1), time(0))


def parse_week(value: str | None, *, default: date | None = None) -> date:
    """A week given as any date in it (YYYY-MM-DD): its Monday. ValueError when unreadable."""
    if not value:
        return monday_of(default or local_today())
    return monday_of(date.fromisoformat(value))


@dataclass(frozen=True)
class Interval:
    """One half-hour of the center's day."""

    start: datetime  # aware, UTC
    end: datetime
    day: date  # the local day it belongs to
    label: str  # local start time, "HH:MM"

    @property
    def slot(self) -> tuple[int, int]:
        """(hour, half) in local time: the key the forecast matches on."""
        hour, minute = map(int, self.label.split(":"))
        return hour, minute // 30


def half_hours(day: date) -> list[Interval]:
    """The half-hours of a local day, in order (48, or 46/50 when the clocks change)."""
    zone = center_zone()
    start, end = day_bounds(day)
    start = start.astimezone(ZoneInfo("UTC"))
    end = end.astimezone(ZoneInfo("UTC"))
    out = []
    at = start
    while at < end:
        local = at.astimezone(zone)
        out.append(Interval(at, min(at + HALF_HOUR, end), day, f"{local:%H}:{30 * (local.minute // 30):02d}"))
        at += HALF_HOUR
    return out


def dayoff_deadline(week_start: date) -> datetime:
    """When requests about this week close: its DayOffDeadline row, or the usual rule."""
    from .models import DayOffDeadline

    row = DayOffDeadline.objects.filter(week_start=week_start).values_list("deadline_at", flat=True).first()
    if row is not None:
        return row
    days, at = dayoff_deadline_rule()
    return local_datetime(week_start - timedelta(days=days), at)
