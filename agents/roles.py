"""The roles of the center and what each may do.

A role is a Django group created by a data migration with explicit model
permissions (the "what"). The row-level scope (the "which rows") lives in each
app's selectors: an agent sees their own records, a supervisor their teams',
HR and managers everyone's.
"""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Role(TextChoices):
    AGENT = "agent", _("Agent")  # takes and makes calls
    SUPERVISOR = "supervisor", _("Supervisor")  # leads one or more teams on the floor
    QA_ANALYST = "qa_analyst", _("QA analyst")  # scores recorded calls
    TRAINER = "trainer", _("Trainer")  # runs courses, records results
    HR = "hr", _("HR")  # hires, contracts, pay
    MANAGER = "manager", _("Manager")  # runs the center, sees everything


# Roles that work in the Django admin (is_staff is set from these).
STAFF_ROLES = {Role.HR, Role.TRAINER, Role.MANAGER, Role.QA_ANALYST}
# Roles that see every agent's records.
ALL_SEEING_ROLES = {Role.HR, Role.MANAGER}


def roles_of(user) -> frozenset[str]:
    """The role names of a user, read once per request and cached on the user object."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_cc_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached |= {Role.MANAGER}
        user._cc_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def grant(apps, role_permissions: dict[str, list[str]]) -> None:
    """For data migrations: give each role group the listed "app_label.codename" permissions.

    Creates the groups and, on a fresh database, the permissions themselves (Django
    only creates them after all migrations have run).
    """
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    for role, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def role_required(*roles: str):
    """Page decorator: sign-in required, then 403 unless the user has one of the roles."""
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
