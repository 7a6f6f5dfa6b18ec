from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from agents.urls import auth_urlpatterns

# Each domain app owns two URL modules: urls.py for pages and api_urls.py for its
# REST endpoints, mounted under /api/.
DOMAIN_APPS = ["agents", "calls", "clients", "orders", "qa", "scheduling"]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include(auth_urlpatterns)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
for app in DOMAIN_APPS:
    urlpatterns += [
        path("api/", include(f"{app}.api_urls")),
        path("", include(f"{app}.urls")),
    ]
