from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "abonnement.organizations"
    label = "organizations"
