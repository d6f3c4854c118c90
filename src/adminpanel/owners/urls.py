from django.urls import path

from adminpanel.login import views as login
from adminpanel.owners import views
from adminpanel.owners.views import OWNER_PAGE, OWNER_SIDE, TWO_FACTOR_PAGES

page = {"page": OWNER_PAGE}

urlpatterns = [
    path("", views.home_view, name="mailbox-home"),
    path("login", login.login_view, page, name="mailbox-login"),
    path("login/verify", login.verify_view, page, name="mailbox-login-verify"),
    path("login/cancel", login.cancel_view, page, name="mailbox-login-cancel"),
    path("login/key", login.verify_key_view, page, name="mailbox-login-key"),
    path("login/passkey", login.passkey_view, page, name="mailbox-login-passkey"),
    path("webauthn/options", views.webauthn_options_view, name="mailbox-webauthn-options"),
    path("logout", login.logout_view, page, name="mailbox-logout"),
    path("confirm", views.confirm_view, name="mailbox-confirm"),
    *(path(route, view, name=OWNER_SIDE.url(name)) for route, name, view in TWO_FACTOR_PAGES),
    path("app-passwords", views.app_passwords_view, name="mailbox-app-passwords"),
    path(
        "app-passwords/<int:pk>/revoke",
        views.revoke_app_password_view,
        name="mailbox-app-password-revoke",
    ),
    path("password", views.password_view, name="mailbox-password"),
    path("sessions", views.sessions_view, name="mailbox-sessions"),
    path("sessions/<int:pk>/sign-out", views.end_session_view, name="mailbox-session-end"),
    path(
        "sessions/sign-out-others",
        views.end_other_sessions_view,
        name="mailbox-sessions-end-others",
    ),
    path("activity", views.activity_view, name="mailbox-activity"),
    path("forwarding", views.leaving_view, name="mailbox-leaving"),
    path("forwarding/<slug:which>", views.leaving_view, name="mailbox-leaving-save"),
]
