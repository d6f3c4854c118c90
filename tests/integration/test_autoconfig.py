"""SPEC §15, mail clients configure themselves: Thunderbird's config-v1.1.xml at both paths and
Outlook's autodiscover.xml name the mail host and its ports, under the autoconfig. and
autodiscover. names the DNS records give; an unknown address gets the same answer; hostile
input gets a clear 400, never a 500."""

from xml.etree import ElementTree

import pytest
from django.test import Client

from adminpanel.mail import services as mail

pytestmark = pytest.mark.django_db

MAIL_HOST = "mail.example.net"
THUNDERBIRD = ["/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml"]
OUTLOOK = "/autodiscover/autodiscover.xml"
OUTLOOK_REQUEST = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/'
    'requestschema/2006"><Request><EMailAddress>{address}</EMailAddress>'
    "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/"
    "responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
)
RESPONSE_NS = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"


@pytest.fixture(autouse=True)
def mail_host(settings):
    settings.MAIL_HOST = MAIL_HOST


@pytest.fixture
def example(admin):
    domain = mail.create_domain(admin, name="example.com")
    mail.create_mailbox(admin, address="ann@example.com", password="Mailbox-Cobalt-Harbor-27")
    return domain


def client(host: str = "autoconfig.example.com") -> Client:
    return Client(HTTP_HOST=host)


def servers(xml: bytes) -> dict[str, list[tuple[str, str, str]]]:
    root = ElementTree.fromstring(xml)  # noqa: S314 - the panel's own answer
    found: dict[str, list] = {"imap": [], "smtp": []}
    for server in root.iter():
        if server.tag in ("incomingServer", "outgoingServer"):
            found[server.get("type")].append(
                (
                    server.findtext("hostname"),
                    server.findtext("port"),
                    server.findtext("socketType"),
                )
            )
    return found


@pytest.mark.parametrize("path", THUNDERBIRD)
def test_thunderbird_gets_imap_and_smtp_of_the_mail_host(example, path):
    answer = client().get(path, {"emailaddress": "ann@example.com"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/xml")
    assert servers(answer.content) == {
        "imap": [(MAIL_HOST, "993", "SSL"), (MAIL_HOST, "143", "STARTTLS")],
        "smtp": [(MAIL_HOST, "465", "SSL"), (MAIL_HOST, "587", "STARTTLS")],
    }
    root = ElementTree.fromstring(answer.content)  # noqa: S314
    assert root.find("emailProvider/domain").text == "example.com"
    assert "app password" in root.find("emailProvider/documentation/descr").text


def test_a_domain_that_allows_only_app_passwords_says_the_password_is_one(admin, example):
    mail.update_domain(admin, example, mail_apps_may_use_mailbox_password=False)
    answer = client().get(THUNDERBIRD[1], {"emailaddress": "ann@example.com"})
    root = ElementTree.fromstring(answer.content)  # noqa: S314
    descr = root.find("emailProvider/documentation/descr").text
    assert descr.startswith("The password is an app password: this domain's mail apps")
    unknown = client().get(THUNDERBIRD[1], {"emailaddress": "nobody@example.com"})
    assert unknown.content == answer.content


def test_an_unknown_address_gets_the_very_same_answer(example):
    known = client().get(THUNDERBIRD[1], {"emailaddress": "ann@example.com"})
    unknown = client().get(THUNDERBIRD[1], {"emailaddress": "nobody@example.com"})
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    elsewhere = client("autoconfig.other.example").get(
        THUNDERBIRD[1], {"emailaddress": "nobody@other.example"}
    )
    assert elsewhere.status_code == 200
    assert servers(elsewhere.content) == servers(known.content)


def test_without_an_address_thunderbird_still_gets_the_servers(db):
    answer = client("example.com").get(THUNDERBIRD[0])
    assert answer.status_code == 200
    assert servers(answer.content)["imap"][0] == (MAIL_HOST, "993", "SSL")


def test_any_host_name_is_answered_for_these_paths(db, settings):
    host = "autoconfig.not-in-allowed-hosts.example"
    assert host not in settings.ALLOWED_HOSTS
    assert client(host).get(THUNDERBIRD[1]).status_code == 200
    outlook = client(host).post(OUTLOOK, OUTLOOK_REQUEST.format(address="a@b.example"), "text/xml")
    assert outlook.status_code == 200


@pytest.mark.parametrize(
    "hostile",
    [
        "ann\x00@example.com",
        "a" * 5000 + "@example.com",
        "<script>@example.com",
        'ann@example.com"><x',
        "ann@exa mple.com",
        "@example.com",
        "ann@",
        "../../etc/passwd",
        "ann@%s" % ("x." * 200),
    ],
)
def test_a_hostile_emailaddress_gets_a_clear_400(db, hostile):
    answer = client().get(THUNDERBIRD[1], {"emailaddress": hostile})
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("text/plain")
    said = answer.content.decode()
    assert "emailaddress" in said and "<" not in said and "\x00" not in said


def test_bytes_that_are_not_utf8_get_a_400(db):
    answer = client().get(THUNDERBIRD[1] + "?emailaddress=ann%FF%FE@example.com")
    assert answer.status_code == 400


def test_outlook_gets_imap_and_smtp_with_its_login_name(example):
    answer = client("autodiscover.example.com").post(
        OUTLOOK, OUTLOOK_REQUEST.format(address="ann@example.com"), content_type="text/xml"
    )
    assert answer.status_code == 200
    root = ElementTree.fromstring(answer.content)  # noqa: S314
    protocols = [
        (p.findtext(f"{RESPONSE_NS}Type"), p.findtext(f"{RESPONSE_NS}Server"))
        + (p.findtext(f"{RESPONSE_NS}Port"), p.findtext(f"{RESPONSE_NS}SSL"))
        + (p.findtext(f"{RESPONSE_NS}LoginName"),)
        for p in root.iter(f"{RESPONSE_NS}Protocol")
    ]
    assert protocols == [
        ("IMAP", MAIL_HOST, "993", "on", "ann@example.com"),
        ("SMTP", MAIL_HOST, "465", "on", "ann@example.com"),
    ]
    unknown = client("autodiscover.example.com").post(
        OUTLOOK, OUTLOOK_REQUEST.format(address="nobody@example.com"), content_type="text/xml"
    )
    assert unknown.status_code == 200
    assert unknown.content == answer.content.replace(b"ann@example.com", b"nobody@example.com")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<Autodiscover><Request>",
        OUTLOOK_REQUEST.format(address="ann\x01@example.com").encode(),
        OUTLOOK_REQUEST.format(address="<b>").encode(),
        # Entity expansion and external entities are refused before any parsing.
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]>'
        b"<Autodiscover><Request><EMailAddress>&y;@example.com</EMailAddress></Request>"
        b"</Autodiscover>",
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<Autodiscover><Request><EMailAddress>&e;</EMailAddress></Request></Autodiscover>",
        b"<a>" * 100_000,
        "ann@bücher.example".encode("latin-1"),
    ],
)
def test_a_hostile_outlook_request_gets_a_clear_400(db, body):
    answer = client("autodiscover.example.com").post(OUTLOOK, body, content_type="text/xml")
    assert answer.status_code == 400, answer.content[:200]
    assert answer["Content-Type"].startswith("text/plain")


def test_the_wrong_method_is_refused_with_405(db):
    assert client().post(THUNDERBIRD[1]).status_code == 405
    refused = client().get(OUTLOOK)
    assert refused.status_code == 405 and refused["Allow"] == "POST"
