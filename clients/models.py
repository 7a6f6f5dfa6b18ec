from django.db import models
from django.utils.translation import gettext_lazy as _


class Client(models.Model):
    """A person or company the center calls or is called by. Personal data: confidential."""

    full_name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    address_line = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR", help_text=_("ISO 3166 code"))
    preferred_language = models.ForeignKey(
        "agents.Language", verbose_name=_("preferred language"), on_delete=models.SET_NULL, null=True, blank=True
    )
    # Empty means the center's TIME_ZONE; outbound calling hours are checked in this zone.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    current_provider = models.CharField(_("current provider"), max_length=100, blank=True)
    segment = models.CharField(_("segment"), max_length=50, blank=True)
    # Honoured at once and for good: no campaign, import or manual dial may call a do-not-call client.
    do_not_call = models.BooleanField(_("do not call"), default=False)
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")

    def __str__(self):
        return self.full_name


class ClientPhone(models.Model):
    """One phone number of a client, in E.164. A number identifies at most one client."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number (E.164)"), max_length=20, unique=True)
    label = models.CharField(_("label"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")

    def __str__(self):
        return self.number
