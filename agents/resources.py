"""CSV import and export of agents and training records (django-import-export).

An import is one transaction: if any row is invalid, nothing is written and the
report lists every bad row with its reasons (IMPORT_EXPORT_USE_TRANSACTIONS and
rollback_on_validation_errors).
"""

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from .models import Agent, Language, Team, TrainingCourse, TrainingRecord, User
from .roles import Role
from .services import onboarding_start, user_get_or_create


class StrictForeignKeyWidget(widgets.ForeignKeyWidget):
    """A foreign key looked up by a natural field, with a readable error when missing."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        try:
            return super().clean(value, row=row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(
                _("No %(model)s with %(field)s “%(value)s”.")
                % {"model": self.model._meta.verbose_name, "field": self.field, "value": value}
            ) from None


class StrictManyToManyWidget(widgets.ManyToManyWidget):
    """Several rows named in one cell ("fr,en"); an unknown name is an error, not dropped."""

    def clean(self, value, row=None, **kwargs):
        found = super().clean(value, row=row, **kwargs)
        if not value:
            return found
        wanted = {item.strip() for item in str(value).split(self.separator) if item.strip()}
        missing = wanted - {str(getattr(obj, self.field)) for obj in found}
        if missing:
            raise ValueError(
                _("Unknown %(model)s: %(values)s.")
                % {"model": self.model._meta.verbose_name, "values": ", ".join(sorted(missing))}
            )
        return found


class AgentResource(resources.ModelResource):
    username = fields.Field(attribute="user", column_name="username", widget=StrictForeignKeyWidget(User, "username"))
    first_name = fields.Field(attribute="user__first_name", column_name="first_name", readonly=True)
    last_name = fields.Field(attribute="user__last_name", column_name="last_name", readonly=True)
    email = fields.Field(attribute="user__email", column_name="email", readonly=True)
    team = fields.Field(attribute="team", column_name="team", widget=StrictForeignKeyWidget(Team, "name"))
    supervisor = fields.Field(
        attribute="supervisor", column_name="supervisor", widget=StrictForeignKeyWidget(User, "username")
    )
    languages = fields.Field(
        attribute="languages", column_name="languages", widget=StrictManyToManyWidget(Language, ",", "code")
    )

    class Meta:
        model = Agent
        import_id_fields = ["employee_number"]
        fields = [
            "employee_number",
            "username",
            "first_name",
            "last_name",
            "email",
            "team",
            "supervisor",
            "hire_date",
            "employment_status",
            "contract_type",
            "calls_per_day_target",
            "aht_target_s",
            "work_mode",
            "languages",
        ]
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def before_import_row(self, row, **kwargs):
        # The account is created (or its names updated) from the row; in the same
        # transaction as the profile, so a rejected file leaves no account behind.
        if not (row.get("username") or "").strip():
            raise ValidationError({"username": _("A username is required.")})
        user, _created = user_get_or_create(
            username=row.get("username", ""),
            first_name=(row.get("first_name") or "").strip(),
            last_name=(row.get("last_name") or "").strip(),
            email=(row.get("email") or "").strip(),
        )
        row["username"] = user.username

    def import_instance(self, instance, row, **kwargs):
        # Many-to-many cells are only read after the row is saved; check them now so an
        # unknown language is reported with the row's other validation errors.
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if "languages" in row:
            try:
                self.fields["languages"].clean(row)
            except ValueError as exc:
                errors["languages"] = [str(exc)]
        if errors:
            raise ValidationError(errors)

    def after_save_instance(self, instance, row, **kwargs):
        instance.user.groups.add(Group.objects.get(name=Role.AGENT))
        onboarding_start(agent=instance)

    def get_queryset(self):
        return super().get_queryset().select_related("user", "team", "supervisor").prefetch_related("languages")


class TrainingRecordResource(resources.ModelResource):
    employee_number = fields.Field(
        attribute="agent", column_name="employee_number", widget=StrictForeignKeyWidget(Agent, "employee_number")
    )
    course = fields.Field(
        attribute="course", column_name="course", widget=StrictForeignKeyWidget(TrainingCourse, "title")
    )
    trainer = fields.Field(attribute="trainer", column_name="trainer", widget=StrictForeignKeyWidget(User, "username"))

    class Meta:
        model = TrainingRecord
        fields = ["id", "employee_number", "course", "trainer", "date", "score", "passed", "notes"]
        export_order = fields
        clean_model_instances = True

    def get_queryset(self):
        return super().get_queryset().select_related("agent", "course", "trainer")
