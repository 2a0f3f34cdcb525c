from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "abonnement.accounts"
    label = "accounts"
