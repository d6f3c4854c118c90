"""Mail clients configure themselves (SPEC §15): Thunderbird's config-v1.1.xml (at both of its
paths) and Outlook's autodiscover.xml name the mail host (ADMINPANEL_MAIL_HOST) and its ports.

The answer never depends on whether the address has a mailbox: a known and an unknown address
of a domain get the same bytes, so autoconfiguration tells nobody which addresses exist. A
domain's own settings are public anyway (its MX, its DNS records).

These requests arrive under the names the DNS records give (autoconfig.<domain>,
autodiscover.<domain>), which ADMINPANEL_ALLOWED_HOSTS cannot list for every domain: the
middleware below answers these three paths before Django's host check, and the answers use
no part of the Host header.
"""

import re
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from adminpanel.errors import Invalid
from adminpanel.mail.addresses import split_address
from adminpanel.mail.models import Domain

THUNDERBIRD_PATHS = ("/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml")
OUTLOOK_PATH = "/autodiscover/autodiscover.xml"
MAX_BODY = 16 * 1024  # Outlook's request is a few hundred bytes
OUTLOOK_REQUEST_NS = (
    "{http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006}"
)
# Implicit TLS first (RFC 8314), STARTTLS as the alternative.
IMAP = [(993, "SSL"), (143, "STARTTLS")]
SMTP = [(465, "SSL"), (587, "STARTTLS")]
APP_PASSWORDS = (
    "Mail apps sign in with an app password (My mailbox → App passwords) once the mailbox has "
    "two-factor authentication, or where its domain allows only app passwords."
)
APP_PASSWORDS_ONLY = (
    "The password is an app password: this domain's mail apps sign in only with one (create it "
    "in My mailbox → App passwords), never with the mailbox password."
)
XML = "application/xml; charset=utf-8"


class BadRequest(Exception):
    """What was wrong with a client's request, in a sentence (400 text/plain)."""


def _address(raw: str | None) -> str | None:
    """The address asked about (local part as sent, A-label domain), None when none was sent;
    BadRequest for anything that is not one address."""
    if raw is None or raw == "":
        return None
    if len(raw) > 320:
        raise BadRequest("emailaddress is longer than an address can be.")
    try:
        local, domain = split_address(raw, "emailaddress")
    except Invalid:
        raise BadRequest("emailaddress is not an e-mail address.") from None
    return f"{local}@{domain}"


def _panel_url() -> str:
    """Where the panel's pages are: its configured WebAuthn origin, else the mail host."""
    return (
        settings.WEBAUTHN_ORIGINS[0]
        if settings.WEBAUTHN_ORIGINS
        else f"https://{settings.MAIL_HOST}"
    )


def _password_note(address: str | None) -> str:
    """What the password is: an app password where the address's domain allows nothing else
    (a domain's setting, never anything about the mailbox)."""
    name = address.rpartition("@")[2] if address else ""
    domain = Domain.objects.filter(name=name).first() if name else None
    if domain is not None and not domain.mail_apps_may_use_mailbox_password:
        return APP_PASSWORDS_ONLY
    return APP_PASSWORDS


def thunderbird(address: str | None) -> str:
    """config-v1.1.xml (Mozilla's autoconfig format) for the address's domain."""
    host = escape(settings.MAIL_HOST)
    domain = escape(address.rpartition("@")[2]) if address else host
    servers = "".join(
        f'    <incomingServer type="imap">\n'
        f"      <hostname>{host}</hostname>\n      <port>{port}</port>\n"
        f"      <socketType>{socket}</socketType>\n"
        "      <authentication>password-cleartext</authentication>\n"
        "      <username>%EMAILADDRESS%</username>\n    </incomingServer>\n"
        for port, socket in IMAP
    ) + "".join(
        f'    <outgoingServer type="smtp">\n'
        f"      <hostname>{host}</hostname>\n      <port>{port}</port>\n"
        f"      <socketType>{socket}</socketType>\n"
        "      <authentication>password-cleartext</authentication>\n"
        "      <username>%EMAILADDRESS%</username>\n    </outgoingServer>\n"
        for port, socket in SMTP
    )
    documentation = escape(f"{_panel_url()}/mailbox/app-passwords", {'"': "&quot;"})
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<clientConfig version="1.1">\n'
        f'  <emailProvider id="{domain}">\n'
        f"    <domain>{domain}</domain>\n"
        f"    <displayName>{domain}</displayName>\n"
        f"    <displayShortName>{domain}</displayShortName>\n"
        f"{servers}"
        f'    <documentation url="{documentation}">\n'
        f'      <descr lang="en">{escape(_password_note(address))}</descr>\n'
        "    </documentation>\n"
        "  </emailProvider>\n"
        "</clientConfig>\n"
    )


def outlook_address(body: bytes) -> str | None:
    """The EMailAddress of Outlook's POX request; BadRequest for anything else. No DTD is
    ever read (no entity can expand or reach out): a body declaring one is refused."""
    if len(body) > MAX_BODY:
        raise BadRequest("The request is too long.")
    if re.search(rb"<!(DOCTYPE|ENTITY)", body, re.IGNORECASE):
        raise BadRequest("A DTD is not allowed in the request.")
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - no DTD, checked above
    except ElementTree.ParseError:
        raise BadRequest("The request is not Outlook's autodiscover XML.") from None
    found = root.find(f"{OUTLOOK_REQUEST_NS}Request/{OUTLOOK_REQUEST_NS}EMailAddress")
    if found is None:
        found = root.find("Request/EMailAddress")  # some clients leave out the namespace
    return _address((found.text or "").strip() if found is not None else None)


def outlook(address: str | None) -> str:
    """autodiscover.xml (Outlook's POX response schema 2006a): IMAP and SMTP, implicit TLS."""
    host = escape(settings.MAIL_HOST)
    login = f"      <LoginName>{escape(address)}</LoginName>\n" if address else ""
    protocols = "".join(
        "    <Protocol>\n"
        f"      <Type>{kind}</Type>\n      <Server>{host}</Server>\n      <Port>{port}</Port>\n"
        f"      <DomainRequired>off</DomainRequired>\n{login}"
        "      <SPA>off</SPA>\n      <SSL>on</SSL>\n      <AuthRequired>on</AuthRequired>\n"
        "    </Protocol>\n"
        for kind, port in (("IMAP", IMAP[0][0]), ("SMTP", SMTP[0][0]))
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">\n'
        '  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">\n'
        "    <Account>\n"
        "    <AccountType>email</AccountType>\n"
        "    <Action>settings</Action>\n"
        f"{protocols}"
        "    </Account>\n"
        "  </Response>\n"
        "</Autodiscover>\n"
    )


def _answer(text: str) -> HttpResponse:
    response = HttpResponse(text, content_type=XML)
    response["Cache-Control"] = "max-age=3600"
    return response


def _refuse(status: int, message: str, **headers: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name] = value
    return response


def respond(request: HttpRequest) -> HttpResponse:
    """The answer for one of the three paths."""
    try:
        if request.path == OUTLOOK_PATH:
            if request.method != "POST":
                return _refuse(405, "Outlook's autodiscover is a POST.", Allow="POST")
            length = request.META.get("CONTENT_LENGTH") or "0"
            if not length.isdigit() or int(length) > MAX_BODY:
                raise BadRequest("The request is too long.")
            return _answer(outlook(outlook_address(request.read(MAX_BODY + 1))))
        if request.method != "GET":
            return _refuse(405, "Thunderbird's autoconfig is a GET.", Allow="GET")
        return _answer(thunderbird(_address(request.GET.get("emailaddress"))))
    except BadRequest as error:
        return _refuse(400, str(error))


class AutoconfigMiddleware:
    """Answers the autoconfiguration paths under any host name (see the module's docstring),
    before the host check, sessions and CSRF (Outlook posts without a token)."""

    PATHS = frozenset({*THUNDERBIRD_PATHS, OUTLOOK_PATH})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in self.PATHS:
            return respond(request)
        return self.get_response(request)
