from functools import update_wrapper

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _


class ContactCenterAdminSite(admin.AdminSite):
    """The back office. A signed-in user without admin access (an agent, a
    supervisor) gets a plain 403 rather than the admin login form."""

    site_header = _("Contact center back office")
    site_title = _("Contact center")

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def refuse_non_staff(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return update_wrapper(refuse_non_staff, view)
