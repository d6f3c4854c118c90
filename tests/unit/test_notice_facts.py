"""Issue 17 item 4: a notice names only facts its event carries, so no notice ever reads
"some recovery codes left" or goes to nobody because a service recorded its event without them."""

from adminpanel.audit.catalogue import AuditEvent, Subject
from adminpanel.notices.catalogue import FACTS, KINDS, Kind


def unfounded(event: AuditEvent, kind: Kind) -> set[str]:
    """What the notice names that its event does not carry, or no fact at all."""
    unknown = {fact for fact in kind.facts() if fact not in FACTS}
    return unknown | (kind.details() - set(event.carries))


def test_every_notice_names_only_facts_its_event_carries():
    assert {event: unfounded(event, kind) for event, kind in KINDS.items()} == {
        event: set() for event in KINDS
    }


def test_a_notice_naming_a_fact_its_event_lacks_is_found():
    codes = Kind("Codes", "{codes_left} left, {colour} key.", "Sign in.")
    assert unfounded(AuditEvent.TWO_FACTOR_ENABLED, codes) == {"codes_left", "colour"}
    assert unfounded(AuditEvent.TWO_FACTOR_RECOVERY_CODE_USED, codes) == {"colour"}
    to_mailbox = Kind("Renamed", "Now {account}.", "Ask.", to_mailbox="address")
    assert unfounded(AuditEvent.MAILBOX_UPDATED, to_mailbox) == {"address"}


def test_every_notice_has_someone_to_go_to():
    """An account's notice goes to the account its event is about; mail data is about none,
    so its notices go to the mailbox its details name."""
    for event, kind in KINDS.items():
        assert (event.about is Subject.NONE) == (kind.to_mailbox is not None), event
