from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "abonnement.invoicing"
    label = "invoicing"

    def ready(self) -> None:
        from abonnement.core.events import subscribe
        from abonnement.invoicing.tasks import on_domain_events

        subscribe(on_domain_events)
