from django.urls import path

from adminpanel.accounts import views as accounts
from adminpanel.twofactor import views as twofactor

urlpatterns = [
    path("", accounts.home_view, name="home"),
    path("login", accounts.login_view, name="login"),
    path("login/verify", accounts.verify_view, name="login-verify"),
    path("login/cancel", accounts.cancel_view, name="login-cancel"),
    path("logout", accounts.logout_view, name="logout"),
    path("security/2fa", twofactor.status_view, name="2fa"),
    path("security/2fa/enable", twofactor.enable_view, name="2fa-enable"),
    path("security/2fa/setup", twofactor.setup_view, name="2fa-setup"),
    path("security/2fa/disable", twofactor.disable_view, name="2fa-disable"),
    path("security/2fa/recovery-codes", twofactor.recovery_codes_view, name="2fa-recovery-codes"),
]

handler400 = "adminpanel.views.bad_request"
handler403 = "adminpanel.views.forbidden"
handler404 = "adminpanel.views.not_found"
handler500 = "adminpanel.views.server_error"
