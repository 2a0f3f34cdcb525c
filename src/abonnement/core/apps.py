from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "abonnement.core"
    label = "core"
