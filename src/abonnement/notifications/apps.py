from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "abonnement.notifications"
    label = "notifications"

    def ready(self) -> None:
        from abonnement.core import events
        from abonnement.notifications.services import record_events

        events.subscribe(record_events, in_transaction=True)
