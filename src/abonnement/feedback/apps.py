from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "abonnement.feedback"
    label = "feedback"
