"""Pages of orders: the order form (from the desk), the order with its confirmation summary
and status actions, the back-office lists with filters and CSV export, follow-ups."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.roles import Role, has_role
from clients import selectors as client_selectors
from clients.forms import add_domain_errors
from clients.models import ClientAccessLog
from clients.services import client_log_access
from contactcenter.errors import ApplicationError, NotFound, render_domain_error

from . import selectors, services
from .confirmation import order_confirmation_summary
from .exports import orders_csv_response
from .filters import FollowUpFilter, OrderFilter
from .forms import NoteForm, OrderForm, ProblemForm, ResolveForm, ScheduleForm
from .models import Order


def _order_or_404(request, pk) -> Order:
    try:
        return selectors.order_get_for_user(user=request.user, order_id=pk)
    except NotFound:
        raise Http404 from None


@login_required
def order_list(request):
    """The back-office list: filters (django-filter), paging, CSV export for managers."""
    if not has_role(request.user, Role.AGENT, Role.SUPERVISOR, Role.MANAGER):
        raise PermissionDenied
    filters = OrderFilter(request.GET or None, queryset=selectors.orders_for_user(user=request.user))
    page = Paginator(filters.qs.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "orders/order_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "can_export": has_role(request.user, Role.MANAGER),
        },
    )


@login_required
def order_export(request):
    if not has_role(request.user, Role.MANAGER):
        raise PermissionDenied
    filters = OrderFilter(request.GET or None, queryset=selectors.orders_for_user(user=request.user))
    client_log_access(
        user=request.user, client=None, via=ClientAccessLog.Via.EXPORT, path=request.get_full_path(), label="orders"
    )
    return orders_csv_response(filters.qs)


@login_required
def order_create(request):
    """The order form opened from the desk: /orders/new/?client=<id>."""
    try:
        client = client_selectors.client_get_for_user(user=request.user, client_id=request.GET.get("client"))
    except NotFound:
        raise Http404 from None
    initial = {
        "address_line": client.address_line,
        "postal_code": client.postal_code,
        "city": client.city,
        "country": client.country,
        "amount": 0,
    }
    form = OrderForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_create(by=request.user, client=client, **form.cleaned_data)
        except ApplicationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Order %(ref)s opened as a draft.") % {"ref": order.reference})
            return redirect("orders:order-detail", order.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "orders/order_form.html", {"form": form, "client": client, "order": None}, status=status)


@login_required
def order_edit(request, pk):
    order = _order_or_404(request, pk)
    editable = services.EDITABLE_FIELDS[order.status]
    if not editable:
        messages.info(request, _("A %(status)s order cannot be changed.") % {"status": order.get_status_display()})
        return redirect("orders:order-detail", order.pk)
    initial = {name: getattr(order, name) for name in services.FORM_FIELDS}
    form = OrderForm(request.POST or None, initial=initial, editable=editable)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.order_update(order=order, by=request.user, **changed)
        except ApplicationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Order saved."))
            return redirect("orders:order-detail", order.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "orders/order_form.html", {"form": form, "client": order.client, "order": order}, status=status
    )


@login_required
def order_detail(request, pk):
    order = _order_or_404(request, pk)
    context = {
        "order": order,
        "summary": order_confirmation_summary(order),
        "history": order.history.select_related("by"),
        "followups": order.followups.select_related("assigned_to", "escalated_to"),
        "allowed": Order.TRANSITIONS[order.status],
        "schedule_form": ScheduleForm(
            initial={"scheduled_date": order.scheduled_date, "visit_from": order.visit_from, "visit_to": order.visit_to}
        ),
        "problem_form": ProblemForm(),
        "note_form": NoteForm(),
        "resolve_form": ResolveForm(),
        "editable": bool(services.EDITABLE_FIELDS[order.status]),
    }
    return render(request, "orders/order_detail.html", context)


@login_required
@require_POST
def order_transition(request, pk):
    """The status buttons of the order page (submit, schedule, complete, cancel, problem)."""
    order = _order_or_404(request, pk)
    to = request.POST.get("to", "")
    try:
        if to == Order.Status.SCHEDULED:
            form = ScheduleForm(request.POST)
            if not form.is_valid():
                raise ApplicationError(
                    _("The date is not valid."), fields={k: " ".join(v) for k, v in form.errors.items()}
                )
            services.order_schedule(order=order, by=request.user, **form.cleaned_data)
        elif to == Order.Status.PROBLEM:
            form = ProblemForm(request.POST)
            if not form.is_valid():
                raise ApplicationError(
                    _("The problem could not be reported."),
                    fields={k: " ".join(v) for k, v in form.errors.items()},
                )
            services.order_report_problem(order=order, by=request.user, **form.cleaned_data)
        else:
            services.order_transition(order=order, to=to, by=request.user, note=request.POST.get("note", ""))
    except ApplicationError as error:
        render_domain_error(request, error)
    else:
        order.refresh_from_db()
        messages.success(request, _("The order is now %(status)s.") % {"status": order.get_status_display().lower()})
    return redirect("orders:order-detail", order.pk)


@login_required
def followup_list(request):
    filters = FollowUpFilter(
        request.GET or {"status": "open"}, queryset=selectors.followups_for_user(user=request.user)
    )
    page = Paginator(filters.qs.order_by("due_at", "pk"), 50).get_page(request.GET.get("page"))
    return render(request, "orders/followup_list.html", {"filters": filters, "page": page})


@login_required
@require_POST
def followup_resolve(request, pk):
    try:
        followup = selectors.followup_get_for_user(user=request.user, followup_id=pk)
    except NotFound:
        raise Http404 from None
    form = ResolveForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError(_("Say what was done."))
        services.followup_resolve(followup=followup, by=request.user, **form.cleaned_data)
    except ApplicationError as error:
        render_domain_error(request, error)
    else:
        messages.success(request, _("Follow-up closed."))
    if request.POST.get("next") == "list":
        return redirect("orders:followup-list")
    return redirect("orders:order-detail", followup.order_id)
