"""Scorecards and their versions: create, copy to a new version, publish, and the rule that
a version a review uses is frozen."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contactcenter.errors import ApplicationError, Conflict

from ..models import Criterion, Scorecard, ScorecardVersion, Section


def _validate_criteria(sections: list[dict]) -> None:
    errors = {}
    if not any(section.get("criteria") for section in sections):
        errors["criteria"] = _("A scorecard needs at least one criterion.")
    for s_index, section in enumerate(sections):
        if not (section.get("title") or "").strip():
            errors[f"sections[{s_index}].title"] = _("A section needs a title.")
        for c_index, criterion in enumerate(section.get("criteria", [])):
            key = f"sections[{s_index}].criteria[{c_index}]"
            scale = criterion.get("scale", Criterion.Scale.YES_NO)
            max_points = criterion.get("max_points", 1)
            if not (criterion.get("label") or "").strip():
                errors[f"{key}.label"] = _("A criterion needs a label.")
            if scale not in Criterion.Scale.values:
                errors[f"{key}.scale"] = _("Unknown scale %s.") % scale
            elif scale == Criterion.Scale.YES_NO and max_points != 1:
                errors[f"{key}.max_points"] = _("A yes/no criterion is worth 1 point.")
            if not isinstance(max_points, int) or not 1 <= max_points <= 100:
                errors[f"{key}.max_points"] = _("The maximum is a whole number from 1 to 100.")
            weight = criterion.get("weight", 1)
            if not isinstance(weight, int) or weight < 1:
                errors[f"{key}.weight"] = _("The weight is a whole number of at least 1.")
    if errors:
        raise ApplicationError(_("The scorecard is not valid."), fields=errors)


def _write_content(version: ScorecardVersion, sections: list[dict]) -> None:
    for s_index, section_data in enumerate(sections):
        section = Section.objects.create(version=version, title=section_data["title"].strip(), position=s_index)
        Criterion.objects.bulk_create(
            [
                Criterion(
                    section=section,
                    label=data["label"].strip(),
                    guidance=data.get("guidance", ""),
                    position=c_index,
                    weight=data.get("weight", 1),
                    scale=data.get("scale", Criterion.Scale.YES_NO),
                    max_points=data.get("max_points", 1),
                    allows_na=data.get("allows_na", True),
                    is_critical=data.get("is_critical", False),
                )
                for c_index, data in enumerate(section_data.get("criteria", []))
            ]
        )


def scorecard_create(*, name: str, sections: list[dict], description: str = "", publish: bool = True) -> Scorecard:
    """A new scorecard with its first version (published unless asked otherwise).

    sections: [{"title": …, "criteria": [{"label", "weight", "scale", "max_points", "allows_na",
    "is_critical", "guidance"}]}]."""
    if not (name or "").strip():
        raise ApplicationError(_("A scorecard needs a name."), fields={"name": _("This field is required.")})
    _validate_criteria(sections)
    with transaction.atomic():
        if Scorecard.objects.filter(name=name.strip()).exists():
            raise Conflict(_("A scorecard named %s already exists.") % name, fields={"name": _("Already taken.")})
        scorecard = Scorecard.objects.create(name=name.strip(), description=description)
        version = ScorecardVersion.objects.create(scorecard=scorecard, number=1)
        _write_content(version, sections)
        if publish:
            scorecard_version_publish(version=version)
    return scorecard


def scorecard_version_assert_editable(version: ScorecardVersion) -> None:
    """Refuse to change a version a review uses: reviews keep the criteria they were scored with."""
    if version.frozen_at is not None:
        raise Conflict(
            _("Version %(number)s of %(scorecard)s is used by reviews and can no longer change; create a new version.")
            % {"number": version.number, "scorecard": version.scorecard},
            code="scorecard_frozen",
        )


def scorecard_version_set_content(*, version: ScorecardVersion, sections: list[dict]) -> ScorecardVersion:
    """Replace the sections and criteria of a version no review uses yet."""
    _validate_criteria(sections)
    with transaction.atomic():
        # The lock orders this edit with review_start's freeze (an UPDATE of the same row):
        # either the edit finishes first, or it sees frozen_at and refuses.
        version = (
            ScorecardVersion.objects.select_for_update(of=("self",)).select_related("scorecard").get(pk=version.pk)
        )
        scorecard_version_assert_editable(version)
        Criterion.objects.filter(section__version=version).delete()
        version.sections.all().delete()
        _write_content(version, sections)
    return version


def scorecard_version_publish(*, version: ScorecardVersion) -> ScorecardVersion:
    """Make a version the one new reviews use (the latest published wins)."""
    if not Criterion.objects.filter(section__version=version).exists():
        raise ApplicationError(_("A version without criteria cannot be published."))
    if version.published_at is None:
        version.published_at = timezone.now()
        version.save(update_fields=["published_at"])
    return version


def scorecard_version_create_next(*, scorecard: Scorecard, notes: str = "") -> ScorecardVersion:
    """A new draft version copying the latest one's sections and criteria, to be edited and published."""
    with transaction.atomic():
        # Lock the scorecard so two copies do not take the same number.
        scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
        latest = scorecard.versions.order_by("-number").first()
        version = ScorecardVersion.objects.create(
            scorecard=scorecard, number=(latest.number + 1) if latest else 1, notes=notes
        )
        if latest is not None:
            for section in latest.sections.prefetch_related("criteria"):
                copy = Section.objects.create(version=version, title=section.title, position=section.position)
                Criterion.objects.bulk_create(
                    [
                        Criterion(
                            section=copy,
                            label=c.label,
                            guidance=c.guidance,
                            position=c.position,
                            weight=c.weight,
                            scale=c.scale,
                            max_points=c.max_points,
                            allows_na=c.allows_na,
                            is_critical=c.is_critical,
                        )
                        for c in section.criteria.all()
                    ]
                )
    return version


def scorecard_current_version(scorecard: Scorecard) -> ScorecardVersion | None:
    """The latest published version: the one new reviews use."""
    return scorecard.versions.filter(published_at__isnull=False).order_by("-number").first()


def version_freeze(version: ScorecardVersion) -> None:
    """Mark a version as used (idempotent; an UPDATE, so it waits for an edit holding the row)."""
    ScorecardVersion.objects.filter(pk=version.pk, frozen_at__isnull=True).update(frozen_at=timezone.now())
