from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "abonnement.notifications"
    label = "notifications"

    def ready(self) -> None:
        from abonnement.core import events
        from abonnement.notifications.services import publish_events

        events.subscribe(publish_events)
