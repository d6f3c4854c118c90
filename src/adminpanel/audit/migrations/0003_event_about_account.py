"""An event says which account it is about. Rows recorded before are filled as the callers fill
them now: the actor's own events from the actor; the ones that named another account by its
username (2FA reset, Sub-Admin changes, sessions and tokens ended) from an account of that name
made before the event; the notice sender's from the notice's account."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Frozen here: the catalogue will grow, the rows recorded before this migration do not.
ABOUT_ACTOR = (
    "web_login",
    "web_login_password_accepted",
    "web_login_2fa_not_completed",
    "web_login_failed",
    "web_login_refused",
    "web_login_throttled",
    "passkey_sign_in",
    "passkey_login_failed",
    "web_logout",
    "web_session_ended",
    "access_confirmed",
    "access_confirm_failed",
    "access_confirm_throttled",
    "api_login",
    "api_login_failed",
    "api_login_refused",
    "api_login_throttled",
    "api_logout",
    "api_token_refused",
    "2fa_setup_started",
    "2fa_enabled",
    "2fa_disabled",
    "2fa_failed",
    "2fa_throttled",
    "2fa_recovery_code_used",
    "2fa_recovery_codes_regenerated",
    "2fa_app_added",
    "2fa_app_replaced",
    "2fa_app_removed",
    "webauthn_key_added",
    "webauthn_key_refused",
    "webauthn_key_removed",
    "webauthn_key_used",
    "webauthn_counter_regressed",
    "admin_created",
    "password_changed",
    "password_change_failed",
    "password_change_throttled",
    "profile_updated",
    "email_change_requested",
    "policy_changed",
)
# The details key that named the account, and the events that named it so.
NAMED_BY = {
    "account": ("2fa_reset", "web_sessions_ended", "api_token_revoked"),
    "subadmin": ("subadmin_created", "subadmin_updated"),
}
NOTICE_EVENTS = ("notice_sent", "notice_deferred", "notice_failed")
CHUNK = 500  # notice ids per statement, well under any database's limit on parameters


def fill_about_account(apps, schema_editor):
    Event = apps.get_model("audit", "Event")
    Account = apps.get_model("accounts", "Account")
    Notice = apps.get_model("notices", "Notice")
    Event.objects.filter(event__in=ABOUT_ACTOR, actor__isnull=False).update(
        about_account_id=models.F("actor_id")
    )
    for account in Account.objects.only("pk", "username", "created_at"):
        for key, events in NAMED_BY.items():
            Event.objects.filter(
                event__in=events,
                at__gte=account.created_at,
                **{f"details__{key}__iexact": account.username},
            ).update(about_account_id=account.pk)
    sent = Notice.objects.filter(account__isnull=False).order_by("account_id")
    for account_id in sent.values_list("account_id", flat=True).distinct():
        ids = list(sent.filter(account_id=account_id).values_list("pk", flat=True))
        for start in range(0, len(ids), CHUNK):
            Event.objects.filter(
                event__in=NOTICE_EVENTS, details__notice__in=ids[start : start + CHUNK]
            ).update(about_account_id=account_id)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_session_2fa"),
        ("notices", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="about_account",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(fill_about_account, migrations.RunPython.noop, elidable=True),
    ]
