"""The customer-service back office (``backoffice/``): staff only, its own sign-in.

Catalogue editing is Django's admin (``/admin/``), limited by staff role there too.
"""

from django.urls import path

from abonnement.backoffice import views, views_sign_in

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="sign_in"),
    path("sign-out/", views.SignOutView.as_view(), name="sign_out"),
    path("two-factor/", views_sign_in.verify, name="mfa_verify"),
    path("two-factor/enrol/", views_sign_in.enrol, name="mfa_enrol"),
    path("two-factor/recovery-codes/", views_sign_in.recovery_codes, name="recovery_codes"),
    path("welcome/<uidb64>/<token>/", views_sign_in.invitation, name="invitation"),
    path("forgot-password/", views_sign_in.password_reset, name="password_reset"),
    path("forgot-password/sent/", views_sign_in.password_reset_sent, name="password_reset_sent"),
    path(
        "reset/<uidb64>/<token>/",
        views_sign_in.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("organizations/<uuid:organization_id>/", views.organization, name="organization"),
    path("organizations/<uuid:organization_id>/edition/", views.edition, name="edition"),
    path(
        "organizations/<uuid:organization_id>/edition/cancel/",
        views.edition_cancel,
        name="edition_cancel",
    ),
    path(
        "organizations/<uuid:organization_id>/purchase-channel/",
        views.purchase_channel,
        name="purchase_channel",
    ),
    path("organizations/<uuid:organization_id>/vat-number/", views.vat_number, name="vat_number"),
    path(
        "organizations/<uuid:organization_id>/vat-number/<int:change_id>/document/",
        views.vat_document,
        name="vat_document",
    ),
    path("edition-requests/", views.edition_requests, name="edition_requests"),
    path("edition-requests/<int:request_id>/", views.edition_request, name="edition_request"),
    path("feedback/", views.feedback, name="feedback"),
    # Documents
    path(
        "organizations/<uuid:organization_id>/invoices/<uuid:invoice_id>/pdf/",
        views.invoice_file,
        {"fmt": "pdf"},
        name="invoice_pdf",
    ),
    path(
        "organizations/<uuid:organization_id>/invoices/<uuid:invoice_id>/xml/",
        views.invoice_file,
        {"fmt": "xml"},
        name="invoice_xml",
    ),
    path(
        "organizations/<uuid:organization_id>/invoices/<uuid:invoice_id>/credit/",
        views.invoice_credit,
        name="invoice_credit",
    ),
    path(
        "organizations/<uuid:organization_id>/invoices/<uuid:invoice_id>/resend/",
        views.document_resend,
        name="invoice_resend",
    ),
    path(
        "organizations/<uuid:organization_id>/orders/<uuid:order_id>/confirmation/",
        views.confirmation_file,
        name="confirmation_file",
    ),
    path(
        "organizations/<uuid:organization_id>/orders/<uuid:order_id>/resend/",
        views.document_resend,
        name="order_resend",
    ),
    path("deliveries/failures/", views.delivery_failures, name="delivery_failures"),
    path("deliveries/<uuid:delivery_id>/retry/", views.delivery_retry, name="delivery_retry"),
]
