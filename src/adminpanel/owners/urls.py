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
]
