"""The customer portal: sign-in, Settings › Subscription, users, company settings, tokens."""

from django.urls import path

from abonnement.accounts import views as accounts
from abonnement.accounts import views_passwords as password_links
from abonnement.accounts import views_portal_session as portal_session
from abonnement.accounts import views_sso as sso
from abonnement.billing import views as billing
from abonnement.core import embedding
from abonnement.features import views as features
from abonnement.feedback import views as feedback
from abonnement.history import views as history
from abonnement.invoicing import views as documents
from abonnement.organizations import views as organizations
from abonnement.subscriptions import views as subscriptions

app_name = "portal"

urlpatterns = [
    path("", accounts.home, name="home"),
    path("sign-in/", accounts.SignInView.as_view(), name="sign_in"),
    path("sign-in/sso/", sso.sso_start, name="sso_start"),
    path("sign-in/sso/callback/", sso.sso_callback, name="sso_callback"),
    path("sign-out/", accounts.SignOutView.as_view(), name="sign_out"),
    path("account/password/", accounts.PasswordView.as_view(), name="password"),
    path("account/welcome/<uidb64>/<token>/", password_links.invitation, name="invitation"),
    path("account/forgot-password/", password_links.password_reset, name="password_reset"),
    path(
        "account/forgot-password/sent/",
        password_links.password_reset_sent,
        name="password_reset_sent",
    ),
    path(
        "account/reset/<uidb64>/<token>/",
        password_links.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("account/profile/", accounts.profile, name="profile"),
    path("settings/", accounts.settings_index, name="settings"),
    # Settings › Miscellaneous › Subscription
    path("settings/subscription/", subscriptions.overview, name="overview"),
    path("settings/subscription/licences/", subscriptions.licenses, name="licenses"),
    path(
        "settings/subscription/licences/confirm/",
        subscriptions.licenses_confirm,
        name="licenses_confirm",
    ),
    path("settings/subscription/storage/", subscriptions.storage, name="storage"),
    path(
        "settings/subscription/storage/confirm/",
        subscriptions.storage_confirm,
        name="storage_confirm",
    ),
    path("settings/subscription/edition/", subscriptions.edition, name="edition"),
    path("settings/subscription/features/", features.feature_list, name="features"),
    path("settings/subscription/features/<slug:code>/", features.feature_switch, name="feature"),
    path("settings/subscription/billing/", billing.billing_details, name="billing"),
    path("settings/subscription/billing/operator/", billing.operator_name, name="operator_name"),
    path("settings/subscription/history/", history.history, name="history"),
    path(
        "settings/subscription/history/orders/<uuid:order_id>/confirmation.pdf",
        documents.confirmation_pdf,
        name="confirmation_pdf",
    ),
    path(
        "settings/subscription/history/orders/<uuid:order_id>/resend/",
        documents.resend_confirmation,
        name="confirmation_resend",
    ),
    path(
        "settings/subscription/history/invoices/<uuid:invoice_id>.pdf",
        documents.invoice_pdf,
        name="invoice_pdf",
    ),
    path(
        "settings/subscription/history/invoices/<uuid:invoice_id>.xml",
        documents.invoice_xml,
        name="invoice_xml",
    ),
    path(
        "settings/subscription/history/invoices/<uuid:invoice_id>/resend/",
        documents.resend_invoice,
        name="invoice_resend",
    ),
    # Users, company, tokens
    path("settings/users/", accounts.user_list, name="users"),
    path("settings/users/new/", accounts.user_new, name="user_new"),
    path("settings/users/<int:user_id>/", accounts.user_edit, name="user_edit"),
    path(
        "settings/users/<int:user_id>/deactivate/",
        accounts.user_deactivate,
        name="user_deactivate",
    ),
    path(
        "settings/users/<int:user_id>/reactivate/",
        accounts.user_reactivate,
        name="user_reactivate",
    ),
    path("settings/users/<int:user_id>/invite/", accounts.user_invite, name="user_invite"),
    path("settings/company/", organizations.company_settings, name="company"),
    path("settings/api-tokens/", accounts.token_list, name="tokens"),
    path("settings/api-tokens/<int:token_id>/revoke/", accounts.token_revoke, name="token_revoke"),
    path("feedback/", feedback.submit, name="feedback"),
    # The portal inside the vendor's product: its single-use sign-in links and its branding.
    path("portal-session/<str:secret>/", portal_session.redeem, name="portal_session"),
    path("branding.css", embedding.branding_stylesheet, name="branding_css"),
]
