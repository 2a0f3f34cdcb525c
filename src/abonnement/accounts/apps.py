from typing import Any

from django.apps import AppConfig


def _record_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Every sign-in (password, link, single sign-on) stamps ``last_login`` from the business
    clock, instead of Django's wall-clock receiver."""
    from abonnement.core import clock

    user.last_login = clock.now()
    type(user).objects.filter(pk=user.pk).update(last_login=user.last_login)


class AccountsConfig(AppConfig):
    name = "abonnement.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth import signals
        from django.contrib.auth.models import update_last_login

        signals.user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        signals.user_logged_in.connect(_record_sign_in, dispatch_uid="abonnement_sign_in")
