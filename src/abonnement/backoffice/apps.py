from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "abonnement.backoffice"
    label = "backoffice"
    verbose_name = "Back office"
