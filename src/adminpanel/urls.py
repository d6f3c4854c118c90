from django.urls import include, path

from adminpanel.api.main import api
from adminpanel.login import views as login
from adminpanel.logs import views as logs
from adminpanel.mail import deleted_views as deleted_mail
from adminpanel.mail import dns_views
from adminpanel.mail import views as mail
from adminpanel.ops import views as ops
from adminpanel.owners import admin_views as owner_admin
from adminpanel.security import api_key_views as api_keys
from adminpanel.security import key_views as keys
from adminpanel.security import profile_views
from adminpanel.security import twofactor_views as twofactor
from adminpanel.security import views as security
from adminpanel.subadmins import views as subadmins

urlpatterns = [
    path("api/v1/", api.urls),
    path("healthz", ops.healthz_view, name="healthz"),
    path("readyz", ops.readyz_view, name="readyz"),
    path("metrics", ops.metrics_view, name="metrics"),
    path("", security.home_view, name="home"),
    path("login", login.login_view, name="login"),
    path("login/verify", login.verify_view, name="login-verify"),
    path("login/cancel", login.cancel_view, name="login-cancel"),
    path("login/key", login.verify_key_view, name="login-key"),
    path("login/passkey", login.passkey_view, name="login-passkey"),
    path("webauthn/options", keys.options_view, name="webauthn-options"),
    path("logout", login.logout_view, name="logout"),
    path("mailbox/", include("adminpanel.owners.urls")),  # My mailbox (SPEC §14)
    path("security/password", security.password_view, name="password"),
    path("security/confirm", login.confirm_view, name="confirm-access"),
    path("security/policy", security.policy_view, name="policy"),
    path("security/sessions", security.sessions_view, name="sessions"),
    path("security/sessions/<int:pk>/sign-out", security.end_session_view, name="session-end"),
    path(
        "security/sessions/sign-out-others",
        security.end_other_sessions_view,
        name="sessions-end-others",
    ),
    path("security/api-keys", api_keys.list_view, name="api-keys"),
    path("security/api-keys/new", api_keys.create_view, name="api-key-create"),
    path("security/api-keys/<int:pk>/revoke", api_keys.revoke_view, name="api-key-revoke"),
    path("security/profile", profile_views.profile_view, name="profile"),
    path(
        "security/profile/email/<str:token>",
        profile_views.confirm_email_view,
        name="profile-email-confirm",
    ),
    path("security/2fa", twofactor.status_view, name="2fa"),
    path("security/2fa/enable", twofactor.enable_view, name="2fa-enable"),
    path("security/2fa/setup", twofactor.setup_view, name="2fa-setup"),
    path("security/2fa/disable", twofactor.disable_view, name="2fa-disable"),
    path("security/2fa/app/replace", twofactor.replace_app_view, name="2fa-app-replace"),
    path(
        "security/2fa/app/replace/setup",
        twofactor.replace_app_setup_view,
        name="2fa-app-replace-setup",
    ),
    path("security/2fa/app/remove", twofactor.remove_app_view, name="2fa-app-remove"),
    path("security/2fa/recovery-codes", twofactor.recovery_codes_view, name="2fa-recovery-codes"),
    path("security/2fa/disable/key", keys.disable_with_key_view, name="2fa-disable-key"),
    path(
        "security/2fa/recovery-codes/key",
        keys.regenerate_with_key_view,
        name="2fa-recovery-codes-key",
    ),
    path("security/2fa/keys/add", keys.add_view, name="2fa-key-add"),
    path("security/2fa/keys/<int:pk>/remove", keys.remove_view, name="2fa-key-remove"),
    path("subadmins", subadmins.list_view, name="subadmins"),
    path("subadmins/add", subadmins.add_view, name="subadmin-add"),
    path("subadmins/<int:pk>", subadmins.edit_view, name="subadmin-edit"),
    path("subadmins/<int:pk>/reset-2fa", subadmins.reset_2fa_view, name="subadmin-reset-2fa"),
    path("users/<int:pk>/reset-2fa", owner_admin.reset_2fa_view, name="user-reset-2fa"),
    path("subadmins/<int:pk>/delete", subadmins.delete_view, name="subadmin-delete"),
    path("logs", logs.logs_view, name="logs"),
    path("logs.csv", logs.logs_csv_view, name="logs-csv"),
    # Before the sections' paths below, so that nothing reads them as users/<id>.
    path("users/import", mail.import_view, name="users-import"),
    path("users/export.csv", mail.export_view, name="users-export"),
    path("users/deleted", deleted_mail.list_view, name="users-deleted"),
    path("users/deleted/<int:pk>/restore", deleted_mail.restore_view, name="users-restore"),
    path("users/deleted/<int:pk>/purge", deleted_mail.purge_view, name="users-purge"),
]
urlpatterns += [
    path("domains/<int:pk>/dns", dns_views.records_view, name="domain-dns"),
    path("domains/<int:pk>/dkim/rotate", dns_views.rotate_view, name="domain-dkim-rotate"),
    path(
        "domains/<int:pk>/dkim/remove-old-key",
        dns_views.remove_old_key_view,
        name="domain-dkim-remove-old-key",
    ),
    path("domains/alias-domains/add", mail.add_alias_domain_view, name="alias-domain-add"),
    path(
        "domains/alias-domains/<int:pk>/delete",
        mail.delete_alias_domain_view,
        name="alias-domain-delete",
    ),
]
for key in mail.SECTIONS:  # the sections of managed data, from adminpanel.sections
    urlpatterns += [
        path(key, mail.list_view, {"key": key}, name=f"{key}"),
        path(f"{key}/add", mail.add_view, {"key": key}, name=f"{key}-add"),
        path(f"{key}/<int:pk>", mail.edit_view, {"key": key}, name=f"{key}-edit"),
        path(f"{key}/<int:pk>/delete", mail.delete_view, {"key": key}, name=f"{key}-delete"),
    ]
# A mailbox's Forwarding and Automatic reply (SPEC §16), shown on its edit page.
urlpatterns += [
    path("users/<int:pk>/forwarding", mail.forwarding_view, name="users-forwarding"),
    path("users/<int:pk>/automatic-reply", mail.automatic_reply_view, name="users-reply"),
    path(
        "users/<int:pk>/revoke-app-passwords",
        mail.revoke_app_passwords_view,
        name="users-revoke-app-passwords",
    ),
]

handler400 = "adminpanel.views.bad_request"
handler403 = "adminpanel.views.forbidden"
handler404 = "adminpanel.views.not_found"
handler500 = "adminpanel.views.server_error"
