"""Domain errors and the one place that turns them into HTTP answers.

Services raise ApplicationError subclasses; the DRF exception handler below and
the page helper `render_domain_error` are the only places that translate them,
so every entry point answers the same way: 400 for a refused action, 403 for a
forbidden one, 404 for a missing or out-of-scope row, 409 for a conflict.
This lives in the project package because every app's services share it.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A business rule refused the action. `fields` maps field names to messages."""

    status_code = 400
    code = "invalid"

    def __init__(self, message, *, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = str(message)
        self.fields = fields or {}
        if code:
            self.code = code


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class Forbidden(ApplicationError):
    status_code = 403
    code = "forbidden"


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"


def api_exception_handler(exc, context):
    """DRF handler: domain errors and Django validation errors become clear 4xx."""
    if isinstance(exc, ApplicationError):
        detail = {"detail": exc.message, "code": exc.code}
        if exc.fields:
            detail["errors"] = exc.fields
        api_exc = drf_exceptions.APIException(detail)
        api_exc.status_code = exc.status_code
        return exception_handler(api_exc, context)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            exc = drf_exceptions.ValidationError(exc.message_dict)
        else:
            exc = drf_exceptions.ValidationError({"detail": exc.messages})
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied(str(exc) or None)
    return exception_handler(exc, context)


def render_domain_error(request, error: ApplicationError) -> None:
    """Page helper: show a domain error as a message on the next rendered page."""
    messages.error(request, error.message)
    for field, message in error.fields.items():
        messages.error(request, f"{field}: {message}")
