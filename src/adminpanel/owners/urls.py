from django.urls import path

from adminpanel.login import views as login
from adminpanel.owners import views
from adminpanel.owners.views import OWNER_PAGE

page = {"page": OWNER_PAGE}

urlpatterns = [
    path("", views.home_view, name="mailbox-home"),
    path("login", login.login_view, page, name="mailbox-login"),
    path("login/verify", login.verify_view, page, name="mailbox-login-verify"),
    path("login/cancel", login.cancel_view, page, name="mailbox-login-cancel"),
    path("login/key", login.verify_key_view, page, name="mailbox-login-key"),
    path("logout", login.logout_view, page, name="mailbox-logout"),
    path("confirm", views.confirm_view, name="mailbox-confirm"),
    path("2fa", views.two_factor_view, name="mailbox-2fa"),
    path("2fa/enable", views.two_factor_enable_view, name="mailbox-2fa-enable"),
    path("2fa/setup", views.two_factor_setup_view, name="mailbox-2fa-setup"),
    path("2fa/disable", views.two_factor_disable_view, name="mailbox-2fa-disable"),
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
