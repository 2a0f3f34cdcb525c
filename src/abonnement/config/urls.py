"""URL map. Each interface owns its own module:

- ``/api/v1/``  — the REST API (``config/api.py``, routers in each app's ``api.py``)
- ``/``         — the customer portal (``config/portal_urls.py``, views in each app's ``views.py``)
- ``/admin/``   — Django's admin (catalogue editing for staff)
"""

from importlib.util import find_spec

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
]

# Interfaces are wired in when their module exists, so each lands in its own change.
if find_spec("abonnement.config.api") is not None:
    from abonnement.config.api import api

    urlpatterns.append(path("api/v1/", api.urls))
if find_spec("abonnement.config.backoffice_urls") is not None:
    urlpatterns.append(path("backoffice/", include("abonnement.config.backoffice_urls")))
if find_spec("abonnement.config.portal_urls") is not None:
    urlpatterns.append(path("", include("abonnement.config.portal_urls")))
