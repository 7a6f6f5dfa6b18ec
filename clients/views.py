"""Pages of the client base and campaigns: the client record with its timeline, the
outcome form, "next client", campaign progress, the provider survey."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.roles import Role, has_role, role_required
from agents.selectors import agent_for_user_profile
from contactcenter.errors import ApplicationError, NotFound, render_domain_error

from . import selectors, services
from .exports import clients_csv_response
from .forms import OutcomeForm, SurveyForm, add_domain_errors
from .models import ClientAccessLog, ContactOutcome


def _client_or_404(request, pk):
    try:
        return selectors.client_get_for_user(user=request.user, client_id=pk)
    except NotFound:
        raise Http404 from None


def _campaign_or_404(request, pk):
    try:
        return selectors.campaign_get_for_user(user=request.user, campaign_id=pk)
    except NotFound:
        raise Http404 from None


def _campaign_from_query(request):
    campaign_id = request.GET.get("campaign") or request.POST.get("campaign")
    return _campaign_or_404(request, campaign_id) if campaign_id else None


@login_required
def client_list(request):
    query = request.GET.get("q", "").strip()
    clients = selectors.clients_for_user(user=request.user).prefetch_related("phones")
    if query:
        number = selectors.phone_to_e164(query)
        clients = (
            clients.filter(phones__number=number).distinct() if number else clients.filter(full_name__icontains=query)
        )
    page = Paginator(clients.order_by("full_name", "pk"), 50).get_page(request.GET.get("page"))
    return render(request, "clients/client_list.html", {"page": page, "query": query})


@login_required
def client_export(request):
    if not has_role(request.user, Role.MANAGER):
        raise PermissionDenied
    return clients_csv_response(selectors.clients_for_user(user=request.user), user=request.user, path=request.path)


@login_required
def client_detail(request, pk):
    """The client record and the one timeline of every contact. Each view is logged."""
    client = _client_or_404(request, pk)
    campaign = _campaign_from_query(request)
    services.client_log_access(user=request.user, client=client, via=ClientAccessLog.Via.PAGE, path=request.path)
    member = None
    if campaign is not None:
        member = selectors.members_for_campaign(campaign=campaign).filter(client=client).first()
    context = {
        "client": client,
        "phones": client.phones.all(),
        "timeline": selectors.client_timeline(client=client),
        "campaign": campaign,
        "member": member,
        "survey_form": SurveyForm(initial={"provider": client.current_provider}),
    }
    return render(request, "clients/client_detail.html", context)


@login_required
def client_outcome(request, pk):
    """How the contact ended. Accepted opens the order form; the rest go back to the
    campaign (next client) or the client record."""
    client = _client_or_404(request, pk)
    campaign = _campaign_from_query(request)
    form = OutcomeForm(request.POST or None, initial={"offer": campaign.offer_id if campaign else None})
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.outcome_record(by=request.user, client=client, campaign=campaign, **form.cleaned_data)
        except ApplicationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Outcome recorded: %(kind)s.") % {"kind": outcome.get_kind_display()})
            if outcome.kind == ContactOutcome.Kind.ACCEPTED:
                return redirect("orders:order-edit", outcome.order.pk)
            if campaign is not None:
                return redirect("clients:campaign-detail", campaign.pk)
            return redirect("clients:client-detail", client.pk)
    status = 400 if request.method == "POST" else 200
    context = {"client": client, "campaign": campaign, "form": form}
    return render(request, "clients/outcome_form.html", context, status=status)


@login_required
@require_POST
def client_dial(request, pk):
    """The desk's "call this client" button: refuses a do-not-call client, else gives the
    number to dial."""
    client = _client_or_404(request, pk)
    try:
        number = services.client_check_dialable(client=client, number=request.POST.get("number") or None)
    except ApplicationError as error:
        render_domain_error(request, error)
    else:
        messages.success(request, _("Dial %(number)s.") % {"number": number})
    return redirect(reverse("clients:client-detail", args=[client.pk]) + _keep_campaign(request))


@login_required
@require_POST
def client_do_not_call(request, pk):
    client = _client_or_404(request, pk)
    services.client_mark_do_not_call(client=client, by=request.user, source=_("client record"))
    messages.success(request, _("%(client)s will never be called again.") % {"client": client})
    return redirect("clients:client-detail", client.pk)


@login_required
@require_POST
def client_survey(request, pk):
    """Record why a client stays with their provider (competitor-won contacts)."""
    client = _client_or_404(request, pk)
    form = SurveyForm(request.POST)
    if form.is_valid():
        try:
            services.provider_survey_record(
                by=request.user, client=client, campaign=_campaign_from_query(request), **form.cleaned_data
            )
        except ApplicationError as error:
            render_domain_error(request, error)
        else:
            messages.success(request, _("Answer recorded."))
    else:
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label if field in form.fields else ''}: {' '.join(errors)}")
    return redirect(reverse("clients:client-detail", args=[client.pk]) + _keep_campaign(request))


def _keep_campaign(request) -> str:
    campaign_id = request.POST.get("campaign") or request.GET.get("campaign")
    return f"?campaign={int(campaign_id)}" if campaign_id and campaign_id.isdigit() else ""


@login_required
def campaign_list(request):
    campaigns = selectors.campaigns_for_user(user=request.user).order_by("status", "-starts_at")
    return render(request, "clients/campaign_list.html", {"campaigns": campaigns})


@login_required
def campaign_detail(request, pk):
    """An agent's "next client" button; a supervisor's progress figures and queue."""
    campaign = _campaign_or_404(request, pk)
    context = {"campaign": campaign, "agent": agent_for_user_profile(user=request.user)}
    if has_role(request.user, Role.SUPERVISOR, Role.MANAGER):
        context["progress"] = selectors.campaign_progress(campaign=campaign)
        context["due"] = (
            selectors.members_for_campaign(campaign=campaign)
            .filter(state__in=["queued", "claimed"])
            .order_by("next_attempt_at", "pk")[:20]
        )
    return render(request, "clients/campaign_detail.html", context)


@role_required(Role.AGENT)
@require_POST
def campaign_next(request, pk):
    """ "Next client": claim the next due member atomically and open their record."""
    campaign = _campaign_or_404(request, pk)
    try:
        member = services.campaign_next_member(campaign=campaign, agent=agent_for_user_profile(user=request.user))
    except ApplicationError as error:
        render_domain_error(request, error)
        return redirect("clients:campaign-detail", campaign.pk)
    if member is None:
        messages.info(request, _("Nobody is due in this campaign right now."))
        return redirect("clients:campaign-detail", campaign.pk)
    return redirect(reverse("clients:client-detail", args=[member.client_id]) + f"?campaign={campaign.pk}")


@role_required(Role.AGENT)
@require_POST
def campaign_member_release(request, pk, member_pk):
    campaign = _campaign_or_404(request, pk)
    member = selectors.members_for_campaign(campaign=campaign).filter(pk=member_pk).first()
    if member is None:
        raise Http404
    try:
        services.campaign_member_release(member=member, agent=agent_for_user_profile(user=request.user))
    except ApplicationError as error:
        render_domain_error(request, error)
    return redirect("clients:campaign-detail", campaign.pk)


@role_required(Role.SUPERVISOR, Role.MANAGER)
def provider_survey_report(request):
    provider = request.GET.get("provider", "").strip()
    report = selectors.provider_survey_report(provider=provider)
    return render(request, "clients/provider_survey_report.html", {"report": report, "provider": provider})
