"""The DNS records a domain needs (SPEC §15): Domains → a domain → DNS records, and
GET /api/v1/domains/{id}/dns. Names are fully qualified (A-labels, no trailing dot); a TXT
value is one unquoted string, which the operator's DNS provider splits into 255-byte strings
itself if it must (a 2048-bit DKIM key is longer).

A domain's alias domains are listed on its page too: their mail comes to the same mail host,
and mail sent from them is signed with d= the alias domain (DMARC aligns d= with the From:
domain, so the target's d= would fail it) under the target's selectors and keys
(mailserver_dkim_keys): one Rotate DKIM key rotates them all, and no second key can be
forgotten when rotating."""

from dataclasses import dataclass

from django.conf import settings

from adminpanel.mail import dkim
from adminpanel.mail.models import DkimKey, Domain

# RFC 6186 (and RFC 8314's submissions): the lower priority is tried first, so clients that
# read SRV records prefer implicit TLS and fall back to STARTTLS.
SRV = [
    ("_imaps._tcp", 0, 993),
    ("_imap._tcp", 10, 143),
    ("_submissions._tcp", 0, 465),
    ("_submission._tcp", 10, 587),
]


@dataclass(frozen=True)
class Record:
    type: str
    name: str
    value: str
    purpose: str  # what a person reads beside it (not in the API's answer)


def _dkim(name: str, keys: list[DkimKey]) -> list[Record]:
    return [
        Record(
            "TXT",
            f"{key.selector}._domainkey.{name}",
            f"v=DKIM1; k=rsa; p={key.public_key}",
            "DKIM: the key mail is signed with."
            if n == 0
            else "DKIM, old key: mail signed with it still verifies until you remove it.",
        )
        for n, key in enumerate(keys)
    ]


def _dmarc(name: str) -> Record:
    return Record(
        "TXT",
        f"_dmarc.{name}",
        f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{name}",
        "DMARC: mail failing SPF and DKIM goes to spam; reports go to postmaster@.",
    )


def _alias_domain(name: str, target: str, keys: list[DkimKey]) -> list[Record]:
    """What an alias domain needs: its mail comes in and goes out like its target's."""
    host = settings.MAIL_HOST
    also = f"Alias domain of {target}: "
    return [
        Record("MX", name, f"10 {host}", also + "its mail goes to the mail host."),
        Record("TXT", name, "v=spf1 mx -all", also + "SPF, only the mail host sends its mail."),
        *(
            Record(r.type, r.name, r.value, also + "mail from it is signed with the same key.")
            for r in _dkim(name, keys)
        ),
        _dmarc(name),
    ]


def records(domain: Domain) -> list[Record]:
    """MX, SPF, DKIM (every published key, the signing one first), DMARC, autoconfiguration;
    then MX, SPF, DKIM and DMARC of each of the domain's alias domains."""
    host = settings.MAIL_HOST
    name = domain.name
    keys = dkim.keys_of(domain)
    found = [
        Record("MX", name, f"10 {host}", "Mail for the domain goes to the mail host."),
        Record("TXT", name, "v=spf1 mx -all", "SPF: only the domain's mail host sends its mail."),
        *_dkim(name, keys),
        _dmarc(name),
        Record("CNAME", f"autoconfig.{name}", host, "Thunderbird and others set themselves up."),
        Record("CNAME", f"autodiscover.{name}", host, "Outlook sets itself up."),
    ]
    for service, priority, port in SRV:
        found.append(
            Record(
                "SRV",
                f"{service}.{name}",
                f"{priority} 1 {port} {host}",
                "Mail apps find the "
                + ("IMAP" if "imap" in service else "sending (SMTP)")
                + f" server on port {port} (RFC 6186).",
            )
        )
    for alias_domain in domain.alias_domains.order_by("name"):
        found += _alias_domain(alias_domain.name, name, keys)
    return found
