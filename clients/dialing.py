"""Calling hours of outbound campaigns, read in each client's own time zone.

A campaign calls between calling_hours_start and calling_hours_end on its calling
weekdays, in the client's zone (Client.time_zone, or the center's TIME_ZONE).
"""

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings


@lru_cache(maxsize=512)
def zone_of(name: str) -> ZoneInfo:
    """The zone of a client ("" or an unknown name: the center's TIME_ZONE)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(settings.TIME_ZONE)


def is_known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def within_calling_hours(campaign, zone_name: str, at: datetime) -> bool:
    """May this campaign call a client living in this zone at this (aware) instant?"""
    local = at.astimezone(zone_of(zone_name))
    return (
        local.isoweekday() in campaign.weekdays
        and campaign.calling_hours_start <= local.time().replace(tzinfo=None) < campaign.calling_hours_end
    )


def next_calling_time(campaign, zone_name: str, after: datetime) -> datetime:
    """The first instant at or after `after` when the campaign may call this zone."""
    zone = zone_of(zone_name)
    local = after.astimezone(zone)
    days = campaign.weekdays or {1, 2, 3, 4, 5}
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        if day.isoweekday() not in days:
            continue
        opening = datetime.combine(day, campaign.calling_hours_start, tzinfo=zone)
        closing = datetime.combine(day, campaign.calling_hours_end, tzinfo=zone)
        if offset == 0 and local >= closing:
            continue
        return max(opening, local) if offset == 0 else opening
    return after + timedelta(days=7)  # unreachable with at least one calling day
