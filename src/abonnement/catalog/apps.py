from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "abonnement.catalog"
    label = "catalog"
