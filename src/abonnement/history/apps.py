from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "abonnement.history"
    label = "history"
