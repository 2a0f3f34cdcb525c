from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "abonnement.subscriptions"
    label = "subscriptions"
