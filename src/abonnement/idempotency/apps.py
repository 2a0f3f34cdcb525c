from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "abonnement.idempotency"
    label = "idempotency"
