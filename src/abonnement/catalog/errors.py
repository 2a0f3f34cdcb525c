from django.utils.translation import gettext as _

from abonnement.core.errors import DomainError, ValidationFailed


class UnknownEdition(ValidationFailed):
    def __init__(self, code: str, field: str = "edition") -> None:
        from abonnement.core.errors import FieldError

        super().__init__([FieldError(field, _("There is no edition “%(code)s”.") % {"code": code})])


class MissingPrice(DomainError):
    code = "validation_error"
    status = 422

    def __init__(self, product: str, currency: str) -> None:
        super().__init__(
            _("The price list has no %(currency)s price for %(product)s.")
            % {"currency": currency, "product": product}
        )
