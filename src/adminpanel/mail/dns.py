"""The DNS records a domain needs (SPEC §15): Domains → a domain → DNS records, and
GET /api/v1/domains/{id}/dns. Names are fully qualified (A-labels, no trailing dot); a TXT
value is one unquoted string, which the operator's DNS provider splits into 255-byte strings
itself if it must (a 2048-bit DKIM key is longer)."""

from dataclasses import dataclass

from django.conf import settings

from adminpanel.mail import dkim
from adminpanel.mail.models import Domain

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


def records(domain: Domain) -> list[Record]:
    """MX, SPF, DKIM (every published key, the signing one first), DMARC, autoconfiguration."""
    host = settings.MAIL_HOST
    name = domain.name
    found = [
        Record("MX", name, f"10 {host}", "Mail for the domain goes to the mail host."),
        Record("TXT", name, "v=spf1 mx -all", "SPF: only the domain's mail host sends its mail."),
    ]
    for n, key in enumerate(dkim.keys_of(domain)):
        found.append(
            Record(
                "TXT",
                f"{key.selector}._domainkey.{name}",
                f"v=DKIM1; k=rsa; p={key.public_key}",
                "DKIM: the key mail is signed with."
                if n == 0
                else "DKIM, old key: mail signed with it still verifies until you remove it.",
            )
        )
    found += [
        Record(
            "TXT",
            f"_dmarc.{name}",
            f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{name}",
            "DMARC: mail failing SPF and DKIM goes to spam; reports go to postmaster@.",
        ),
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
    return found
