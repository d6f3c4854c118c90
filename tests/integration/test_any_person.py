"""The second factor serves any kind of person (issue 17, for SPEC §14's mailbox owners): a
test-only kind that is not an Account (tests/members.py) gets an app, recovery codes, keys, a
throttle and a lock of its own through the same services, and its kind hears what changed."""

import pyotp
import pytest

from adminpanel.audit.models import Event
from adminpanel.errors import Refused
from adminpanel.twofactor import interface, key_services, services
from adminpanel.twofactor.ceremony import RelyingParty
from adminpanel.twofactor.models import CodeState, RecoveryCode, TotpDevice, WebAuthnKey
from tests.factors import enable_2fa, wrong_code_for
from tests.members import KIND, KIND_PATH, new_member
from tests.softkey import SoftKey

RP = RelyingParty("localhost", "Admin Panel", ("http://localhost",))


@pytest.fixture
def member_kind(settings):
    settings.PERSON_KINDS = {**settings.PERSON_KINDS, KIND: KIND_PATH}


def app_for(member, clock):
    setup = services.start_setup(member, now=clock())
    key = services.setup_key(setup)
    codes = services.confirm_setup(member, setup.pk, pyotp.TOTP(key).at(clock()), now=clock())
    clock.advance(seconds=30)
    return key, codes


@pytest.mark.django_db
def test_a_member_gets_an_app_and_recovery_codes_and_its_kind_hears_of_it(member_kind, clock):
    member = new_member("m1")
    key, codes = app_for(member, clock)
    assert len(codes) == 10 and interface.is_enabled(member)
    assert interface.methods(member) == ["totp"]
    assert member.changes == [("2fa_enabled", None)]
    assert TotpDevice.objects.filter(person=member.person).count() == 1
    assert RecoveryCode.objects.filter(person=member.person).count() == 10
    assert Event.objects.filter(event="2fa_enabled", actor_name="m1", actor=None).exists()


@pytest.mark.django_db
def test_a_members_code_is_accepted_once(member_kind, clock):
    member = new_member("m1")
    key, _ = app_for(member, clock)
    code = pyotp.TOTP(key).at(clock())
    assert interface.verify(member, code, purpose="login", now=clock()).kind == "totp"
    with pytest.raises(Refused) as replayed:
        interface.verify(member, code, purpose="login", now=clock())
    assert replayed.value.reason == "replayed"


@pytest.mark.django_db
def test_a_member_and_an_account_have_a_throttle_each(member_kind, clock, alice):
    member = new_member("m1")
    key, _ = app_for(member, clock)
    alice_2fa = enable_2fa(alice, clock)
    for _ in range(5):
        with pytest.raises(Refused):
            interface.verify(member, wrong_code_for(key, clock()), purpose="login", now=clock())
    with pytest.raises(Refused) as waiting:
        interface.verify(member, pyotp.TOTP(key).at(clock()), purpose="login", now=clock())
    assert waiting.value.reason == "throttled"
    assert CodeState.objects.get(person=member.person).failures == 5
    assert interface.verify(alice, alice_2fa.code(), purpose="login", now=clock()).kind == "totp"


@pytest.mark.django_db
def test_a_locked_member_opens_only_with_a_recovery_code(member_kind, clock):
    member = new_member("m1")
    key, codes = app_for(member, clock)
    CodeState.objects.filter(person=member.person).update(failures=100)
    with pytest.raises(Refused) as locked:
        interface.verify(member, pyotp.TOTP(key).at(clock()), purpose="login", now=clock())
    assert locked.value.reason == "locked"
    verdict = interface.verify(member, codes[0], purpose="login", now=clock())
    assert (verdict.kind, verdict.recovery_codes_left) == ("recovery", 9)
    with pytest.raises(Refused):
        interface.verify(member, codes[0], purpose="login", now=clock())


@pytest.mark.django_db
def test_a_member_registers_a_key_signs_with_it_and_turns_2fa_off(member_kind, clock):
    member, session, key = new_member("m1"), {}, SoftKey("http://localhost")
    options = key_services.registration_options(member, session=session, rp=RP, now=clock())
    codes = key_services.add_key(
        member, key.create(options), "Blue", session=session, rp=RP, now=clock()
    )
    assert len(codes) == 10 and interface.methods(member) == ["key"]
    assert WebAuthnKey.objects.get(person=member.person).name == "Blue"
    for purpose in ("login", "disable"):
        options = key_services.authentication_options(
            member, purpose=purpose, session=session, rp=RP, now=clock()
        )
        answer = key.get(options)
        if purpose == "login":
            assert (
                key_services.verify_key(
                    member, answer, purpose=purpose, session=session, rp=RP, now=clock()
                ).kind
                == "key"
            )
        else:
            key_services.disable_with_key(member, answer, session=session, rp=RP, now=clock())
    assert not interface.is_enabled(member)
    assert [change for change, _ in member.changes] == ["2fa_enabled", "2fa_disabled"]


@pytest.mark.django_db
def test_resetting_a_member_forgives_it_and_its_kind_hears_who_did(member_kind, clock, admin):
    member = new_member("m1")
    app_for(member, clock)
    CodeState.objects.filter(person=member.person).update(failures=7)
    interface.reset(member, actor=admin)
    assert not interface.is_enabled(member)
    assert CodeState.objects.get(person=member.person).failures == 0
    assert member.changes[-1] == ("2fa_reset", admin)
