"""Every write the agents app knows: accounts, roles, hiring, onboarding."""

from datetime import date

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contactcenter.errors import ApplicationError

from .models import Agent, OnboardingStep, OnboardingTask, Team, User
from .roles import STAFF_ROLES, Role


def user_set_roles(*, user: User, roles: list[str]) -> User:
    """Give a user exactly these roles. Staff (admin) access follows the roles."""
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ApplicationError(_("Unknown role(s): %s") % ", ".join(sorted(unknown)), fields={"roles": sorted(unknown)})
    with transaction.atomic():
        user.groups.set(Group.objects.filter(name__in=roles))
        is_staff = bool(set(roles) & STAFF_ROLES) or user.is_superuser
        if user.is_staff != is_staff:
            user.is_staff = is_staff
            user.save(update_fields=["is_staff"])
    user._cc_roles = None
    return user


def user_get_or_create(
    *, username: str, first_name: str = "", last_name: str = "", email: str = "", password: str | None = None
) -> tuple[User, bool]:
    """The account with this username, created (or its names updated) from the given data.

    Raises ValidationError with field messages for an empty username or a bad email,
    so imports report the row instead of failing.
    """
    username = (username or "").strip()
    errors = {}
    if not username:
        errors["username"] = _("A username is required.")
    elif len(username) > 150:
        errors["username"] = _("A username has at most 150 characters.")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("%(email)s is not a valid email address.") % {"email": email}
    if errors:
        raise ValidationError(errors)
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": first_name, "last_name": last_name, "email": email}
    )
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(update_fields=["password"])
    else:
        given = {"first_name": first_name, "last_name": last_name, "email": email}
        changed = [field for field, value in given.items() if value and getattr(user, field) != value]
        for field in changed:
            setattr(user, field, given[field])
        if changed:
            user.save(update_fields=changed)
    return user, created


def agent_hire(
    *,
    user: User,
    employee_number: str,
    team: Team | None,
    hire_date: date,
    contract_type: str = Agent.ContractType.PERMANENT,
    calls_per_day_target: int = 60,
    aht_target_s: int = 300,
    work_mode: str = Agent.WorkMode.ON_SITE,
) -> Agent:
    """Create the agent profile of a new hire, give them the agent role and their checklist."""
    with transaction.atomic():
        agent = Agent(
            user=user,
            employee_number=employee_number,
            team=team,
            supervisor=team.supervisor if team else None,
            hire_date=hire_date,
            contract_type=contract_type,
            calls_per_day_target=calls_per_day_target,
            aht_target_s=aht_target_s,
            work_mode=work_mode,
        )
        try:
            agent.full_clean()
        except ValidationError as exc:
            raise ApplicationError(_("The agent could not be created."), fields=exc.message_dict) from exc
        agent.save()
        user.groups.add(Group.objects.get(name=Role.AGENT))
        onboarding_start(agent=agent)
    return agent


def onboarding_start(*, agent: Agent) -> list[OnboardingTask]:
    """Give an agent a task for every active onboarding step they do not have yet."""
    have = set(agent.onboarding.values_list("step_id", flat=True))
    tasks = [
        OnboardingTask(agent=agent, step=step)
        for step in OnboardingStep.objects.filter(is_active=True).exclude(pk__in=have)
    ]
    return OnboardingTask.objects.bulk_create(tasks)


def onboarding_task_complete(*, task: OnboardingTask, by: User) -> OnboardingTask:
    """Tick an onboarding task; ticking it twice keeps the first time."""
    if task.done_at is None:
        task.done_at = timezone.now()
        task.done_by = by
        task.save(update_fields=["done_at", "done_by"])
    return task
