"""URL map. Each interface owns its module:

- ``/api/v1/``      the REST API (``config/api.py``; routers in each app's ``api.py``)
- ``/backoffice/``  the customer-service console (``config/backoffice_urls.py``)
- ``/admin/``       Django's admin (catalogue editing for staff, by role)
- ``/``             the customer portal (``config/portal_urls.py``; views in each app)
"""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from abonnement.config.api import api


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links: send them to the SVG one."""
    return redirect(static("portal/favicon.svg"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("backoffice/", include("abonnement.config.backoffice_urls")),
    path("", include("abonnement.config.portal_urls")),
]
