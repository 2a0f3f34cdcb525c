"""The portal's fixtures (a signed-in administrator, the simulated clock at NOW) for the
history's page tests here."""

from tests.portal.conftest import _fresh_cache, admin_user, clock_at_now, portal

__all__ = ["_fresh_cache", "admin_user", "clock_at_now", "portal"]
