from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    name = "abonnement.features"
    label = "features"
