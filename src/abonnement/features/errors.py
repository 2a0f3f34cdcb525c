from django.utils.translation import gettext as _

from abonnement.core.errors import DomainError


class FeatureNotAvailable(DomainError):
    code = "feature_not_available"
    status = 409

    def __init__(self, feature: str, editions: list[str]) -> None:
        if editions:
            message = _("%(feature)s is not in your edition; it is available in %(editions)s.") % {
                "feature": feature,
                "editions": ", ".join(editions),
            }
        else:
            message = _("%(feature)s is not available.") % {"feature": feature}
        super().__init__(message)


class FeatureRequired(DomainError):
    code = "feature_required"
    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
