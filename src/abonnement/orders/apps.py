from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "abonnement.orders"
    label = "orders"
