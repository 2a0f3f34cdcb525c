from abonnement.subscriptions.errors import LastSubscriptionAdmin, NoFreeLicense

__all__ = ["LastSubscriptionAdmin", "NoFreeLicense"]
