from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "abonnement.billing"
    label = "billing"
