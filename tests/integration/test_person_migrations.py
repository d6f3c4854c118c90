"""The second factor's rows move from the account to its person (issue 17): every row made
before the migrations is there after them, owned by its account's person, unchanged."""

from datetime import UTC, datetime

import pytest

from tests.migrating import leaves, migrate

BEFORE = [("accounts", "0011_api_key"), ("twofactor", "0004_webauthnkey_passkey")]
AFTER = [("accounts", "0013_account_person_required"), ("twofactor", "0006_person_required")]
WHEN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def rows_before(apps) -> dict:
    """Alice has an app, codes, a code state and a pending setup; Bob a key and a challenge;
    Carol nothing; one passkey challenge belongs to nobody."""
    model = apps.get_model
    Account = model("accounts", "Account")
    alice, bob, carol = (Account.objects.create(username=n, password="!") for n in "abc")
    model("twofactor", "TotpDevice").objects.create(account=alice, encrypted_key="k-alice")
    model("twofactor", "PendingSetup").objects.create(
        account=alice, encrypted_key="k-new", expires_at=WHEN
    )
    for n in range(3):
        model("twofactor", "RecoveryCode").objects.create(account=alice, code_hash=f"h{n}")
    model("twofactor", "CodeState").objects.create(
        account=alice, last_step=123, failures=7, retry_at=WHEN
    )
    model("twofactor", "CodeState").objects.create(account=carol, failures=2)
    model("twofactor", "WebAuthnKey").objects.create(
        account=bob, name="Blue", credential_id="cred-bob", public_key=b"pk", user_handle="u"
    )
    Challenge = model("twofactor", "WebAuthnChallenge")
    Challenge.objects.create(
        challenge="c-bob", binding="b", purpose="login", account=bob, expires_at=WHEN
    )
    Challenge.objects.create(challenge="c-none", binding="", purpose="passkey", expires_at=WHEN)
    return {"alice": alice.pk, "bob": bob.pk, "carol": carol.pk}


@pytest.mark.django_db(transaction=True)
def test_every_second_factor_row_moves_to_its_accounts_person():
    apps = migrate(BEFORE)
    try:
        ids = rows_before(apps)
        apps = migrate(AFTER)
        model = apps.get_model
        person = dict(model("accounts", "Account").objects.values_list("pk", "person_id"))
        alice, bob, carol = (person[ids[n]] for n in ("alice", "bob", "carol"))
        devices = list(
            model("twofactor", "TotpDevice").objects.values_list("person", "encrypted_key")
        )
        setups = list(
            model("twofactor", "PendingSetup").objects.values_list("person", "encrypted_key")
        )
        codes = sorted(
            model("twofactor", "RecoveryCode").objects.values_list("person", "code_hash")
        )
        states = sorted(
            model("twofactor", "CodeState").objects.values_list(
                "person", "last_step", "failures", "retry_at"
            )
        )
        keys = list(model("twofactor", "WebAuthnKey").objects.values_list("person", "name"))
        challenges = sorted(
            model("twofactor", "WebAuthnChallenge").objects.values_list("challenge", "person")
        )
        kinds = set(model("people", "Person").objects.values_list("kind", flat=True))
    finally:
        migrate(leaves())
    assert len({alice, bob, carol}) == 3 and None not in (alice, bob, carol)
    assert kinds == {"account"}
    assert devices == [(alice, "k-alice")]
    assert setups == [(alice, "k-new")]
    assert codes == [(alice, "h0"), (alice, "h1"), (alice, "h2")]
    assert states == sorted([(alice, 123, 7, WHEN), (carol, None, 2, None)])
    assert keys == [(bob, "Blue")]
    assert challenges == [("c-bob", bob), ("c-none", None)]
