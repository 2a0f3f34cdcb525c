"""The customer-service console (PRODUCT.md "Back office"), mounted at ``/backoffice/``."""
