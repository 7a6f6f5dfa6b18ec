"""The project's URLs with the calls pages first, as they will be once the agents app's
placeholder /desk/ and /dashboard/ pages are removed (until then agents' come first)."""

from django.urls import include, path

from contactcenter.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("", include("calls.urls")), *project_urlpatterns]
