"""The back office of the client base: catalogs, campaigns, imports, the access log.

Managers run it; HR read the access log. The client list is scoped by
clients.selectors.clients_for_user like every other view of client records, each
opened record is written to the access log, and exports are for managers only.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agents.roles import Role, has_role
from contactcenter.errors import ApplicationError

from . import selectors, services
from .exports import clients_csv_response
from .models import (
    Campaign,
    CampaignMember,
    Client,
    ClientAccessLog,
    ClientPhone,
    ContactOutcome,
    DoNotCallNumber,
    Offer,
    ProviderSurveyAnswer,
    RefusalReason,
    StayReason,
)

# Above this many rows, the upload page lists only the rows that are not plain creations.
REPORT_ROWS_SHOWN = 2000


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file (UTF-8)"))
    skip_invalid = forms.BooleanField(
        label=gettext_lazy("Skip invalid rows"),
        required=False,
        help_text=gettext_lazy(
            "Import the valid rows and report the others. Unticked: one bad row and nothing is written."
        ),
    )


class AddToCampaignForm(forms.Form):
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.exclude(status=Campaign.Status.FINISHED), label=gettext_lazy("Campaign")
    )


class ClientPhoneInline(admin.TabularInline):
    model = ClientPhone
    extra = 0


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("full_name", "city", "segment", "current_provider", "do_not_call", "marketing_consent")
    list_filter = ("do_not_call", "marketing_consent", "segment", "country", "preferred_language")
    search_fields = ("full_name", "email", "phones__number", "city")
    inlines = [ClientPhoneInline]
    actions = ["export_csv", "add_to_campaign"]
    change_list_template = "admin/clients/client/change_list.html"

    def get_queryset(self, request):
        return selectors.clients_for_user(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        # A do-not-call request is for good: once set, the flag cannot be unticked here.
        return ("do_not_call",) if obj is not None and obj.do_not_call else ()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "do_not_call" in form.changed_data and obj.do_not_call:
            services.client_mark_do_not_call(client=obj, by=request.user, source="back office")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        client = self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        if client is not None and getattr(response, "status_code", 200) == 200 and request.method == "GET":
            services.client_log_access(
                user=request.user, client=client, via=ClientAccessLog.Via.ADMIN, path=request.path
            )
        return response

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="clients_client_import"),
        ] + super().get_urls()

    def import_view(self, request):
        """Upload a CSV of clients: all or nothing unless "skip invalid rows" is ticked."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        report = None
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            report = services.clients_import(
                form.cleaned_data["file"], skip_invalid=form.cleaned_data["skip_invalid"], by=request.user
            )
            if report.committed:
                self.message_user(request, report.summary(), messages.SUCCESS)
            else:
                self.message_user(request, report.summary(), messages.ERROR)
        rows = report.rows if report else []
        if len(rows) > REPORT_ROWS_SHOWN:
            # A 100,000-row file: show what needs reading (merged, skipped, rejected).
            rows = [row for row in rows if row.status != services.RowStatus.CREATED]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import clients"),
            "rows": rows,
            "created_hidden": report is not None and len(rows) < len(report.rows),
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "columns": services.imports.COLUMNS,
        }
        return TemplateResponse(request, "admin/clients/client/import.html", context)

    def has_export_permission(self, request):
        return has_role(request.user, Role.MANAGER)

    @admin.action(description=gettext_lazy("Export the selected clients (CSV)"), permissions=["export"])
    def export_csv(self, request, queryset):
        return clients_csv_response(queryset, user=request.user, path=request.path)

    @admin.action(description=gettext_lazy("Add the selected clients to a campaign"), permissions=["change"])
    def add_to_campaign(self, request, queryset):
        form = AddToCampaignForm(request.POST if "campaign" in request.POST else None)
        if form.is_valid():
            try:
                added, refused = services.campaign_add_clients(campaign=form.cleaned_data["campaign"], clients=queryset)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return None
            self.message_user(
                request,
                _("%(added)d clients added; %(refused)d do-not-call clients left out.")
                % {"added": added, "refused": refused},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Add clients to a campaign"),
            "opts": self.model._meta,
            "form": form,
            "queryset": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/clients/client/add_to_campaign.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the application; the back office only reads them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClientAccessLog)
class ClientAccessLogAdmin(ReadOnlyAdmin):
    list_display = ("viewed_at", "user", "client_label", "via", "path")
    list_filter = ("via", ("viewed_at", admin.DateFieldListFilter))
    search_fields = ("client_label", "user__username", "user__last_name")
    date_hierarchy = "viewed_at"
    list_select_related = ("user",)


class DoNotCallNumberForm(forms.ModelForm):
    class Meta:
        model = DoNotCallNumber
        fields = ["number", "source"]

    def clean_number(self):
        e164 = selectors.phone_to_e164(self.cleaned_data["number"])
        if e164 is None:
            raise forms.ValidationError(_("Not a valid phone number."))
        if DoNotCallNumber.objects.filter(number=e164).exists():
            raise forms.ValidationError(_("This number is already on the list."))
        return e164


@admin.register(DoNotCallNumber)
class DoNotCallNumberAdmin(admin.ModelAdmin):
    """The do-not-call list: numbers are added (normalised), never changed or removed."""

    form = DoNotCallNumberForm
    list_display = ("number", "client", "source", "created_at", "created_by")
    search_fields = ("number",)
    readonly_fields = ("client", "created_at", "created_by")
    list_select_related = ("client", "created_by")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # for good

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        obj.client = Client.objects.filter(phones__number=obj.number).first()
        super().save_model(request, obj, form, change)
        if obj.client is not None:
            services.client_mark_do_not_call(client=obj.client, by=request.user, source="back office")


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "category",
        "price",
        "price_period",
        "commitment_months",
        "active_from",
        "active_to",
        "published_at",
    )
    list_filter = ("category", "price_period", "needs_technician")
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}
    readonly_fields = ("published_at",)
    actions = ["publish"]

    @admin.action(description=gettext_lazy("Publish and build the re-offer campaign"), permissions=["change"])
    def publish(self, request, queryset):
        for offer in queryset:
            try:
                campaign = services.offer_publish(offer=offer, by=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{offer}: {exc.message}", messages.WARNING)
                continue
            if campaign is None:
                self.message_user(request, _("%(offer)s published; no refusal it answers.") % {"offer": offer})
            else:
                self.message_user(
                    request,
                    _("%(offer)s published; campaign “%(campaign)s” built with %(count)d clients.")
                    % {"offer": offer, "campaign": campaign, "count": campaign.members.count()},
                    messages.SUCCESS,
                )


@admin.register(RefusalReason)
class RefusalReasonAdmin(admin.ModelAdmin):
    list_display = ("label", "code", "reoffer_rule", "requires_text", "position", "is_active")
    list_editable = ("reoffer_rule", "requires_text", "position", "is_active")
    search_fields = ("label", "code")


@admin.register(StayReason)
class StayReasonAdmin(admin.ModelAdmin):
    list_display = ("label", "code", "requires_text", "position", "is_active")
    list_editable = ("requires_text", "position", "is_active")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "status", "offer", "starts_at", "ends_at", "is_reoffer")
    list_filter = ("status", "kind", "is_reoffer")
    search_fields = ("name",)
    filter_horizontal = ("teams", "agents")
    readonly_fields = ("status", "is_reoffer", "created_by")
    autocomplete_fields = ("offer",)
    actions = ["start", "pause", "finish"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def _set_status(self, request, queryset, to):
        for campaign in queryset:
            try:
                services.campaign_set_status(campaign=campaign, to=to, by=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{campaign}: {exc.message}", messages.WARNING)

    @admin.action(description=gettext_lazy("Start (or resume) the selected campaigns"), permissions=["change"])
    def start(self, request, queryset):
        self._set_status(request, queryset, Campaign.Status.RUNNING)

    @admin.action(description=gettext_lazy("Pause the selected campaigns"), permissions=["change"])
    def pause(self, request, queryset):
        self._set_status(request, queryset, Campaign.Status.PAUSED)

    @admin.action(description=gettext_lazy("Finish the selected campaigns"), permissions=["change"])
    def finish(self, request, queryset):
        self._set_status(request, queryset, Campaign.Status.FINISHED)

    def view_on_site(self, obj):
        return reverse("clients:campaign-detail", args=[obj.pk])


@admin.register(CampaignMember)
class CampaignMemberAdmin(admin.ModelAdmin):
    list_display = ("client", "campaign", "state", "attempts", "next_attempt_at", "last_outcome_kind", "assigned_agent")
    list_filter = ("state", "campaign", "last_outcome_kind")
    search_fields = ("client__full_name", "client__phones__number")
    raw_id_fields = ("client", "last_outcome", "assigned_agent")
    readonly_fields = ("state", "attempts", "last_outcome", "last_outcome_kind", "assigned_agent", "locked_until")
    list_select_related = ("client", "campaign", "assigned_agent__user")

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(client__in=selectors.clients_for_user(user=request.user).values("pk"))
        )


@admin.register(ContactOutcome)
class ContactOutcomeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "client", "kind", "refusal_reason", "offer", "campaign", "by")
    list_filter = ("kind", "refusal_reason", "campaign")
    date_hierarchy = "created_at"
    list_select_related = ("client", "refusal_reason", "offer", "campaign", "by")

    def get_queryset(self, request):
        return selectors.outcomes_for_user(user=request.user)


@admin.register(ProviderSurveyAnswer)
class ProviderSurveyAnswerAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "client", "provider", "reason", "satisfaction", "by")
    list_filter = ("reason", "provider")
    list_select_related = ("client", "reason", "by")

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(client__in=selectors.clients_for_user(user=request.user).values("pk"))
        )
