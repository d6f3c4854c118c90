"""Anything a client can send gets a 4xx JSON error, never a 5xx (SPEC §6)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.client import Api

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def assert_error(answer, status: int, error: str | None = None) -> None:
    assert answer.status == status, answer
    assert isinstance(answer.body, dict) and {"error", "message"} <= set(answer.body), answer
    if error is not None:
        assert answer.error == error


@pytest.mark.parametrize(
    "raw",
    [
        "{bad",
        "{'name': 'x.com'}",
        '{"name": "x.com",}',
        "NaN",
        '{"name": NaN}',
        '{"name": Infinity}',
        "\ufeff{}",
        '{"name": "x.com"} trailing',
        "1" * 5000,  # over Python's int-parsing limit
    ],
)
def test_malformed_json_is_400(admin_api, raw):
    assert_error(admin_api.post("/domains", raw=raw), 400, "malformed_json")


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "\\ud800.com"}',  # a lone surrogate, escaped
        '{"name": "\\udfff"}',
        '{"\\ud800": 1}',  # in a key
        '{"name": "exa\\u0000mple.com"}',  # NUL
        '{"a\\u0000": "x"}',
    ],
)
def test_nul_bytes_and_lone_surrogates_are_400(admin_api, raw):
    assert_error(admin_api.post("/domains", raw=raw), 400, "malformed_json")


def test_a_body_that_is_not_utf8_is_400(admin_api):
    assert_error(admin_api.post("/domains", raw=b'{"name": "\xed\xa0\x80.com"}'), 400)
    assert_error(admin_api.post("/domains", raw=b'{"name": "\xff\xfe"}'), 400)


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deep_nesting_is_400(admin_api, depth):
    raw = '{"name": ' + "[" * depth + "]" * depth + "}"
    assert_error(admin_api.post("/domains", raw=raw), 400, "malformed_json")


def test_moderate_nesting_is_judged_by_the_schema(admin_api):
    raw = '{"name": ' + "[" * 10 + "]" * 10 + "}"
    assert_error(admin_api.post("/domains", raw=raw), 422, "validation_error")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"name": ["a.com"]}, "name"),
        ({"name": {"x": 1}}, "name"),
        ({"name": "a.com", "active": "perhaps"}, "active"),
        ({"name": "a.com", "unknown": 1}, "unknown"),
        ({}, "name"),
    ],
)
def test_wrong_types_and_missing_fields_are_422_naming_the_field(admin_api, body, field):
    answer = admin_api.post("/domains", body)
    assert_error(answer, 422, "validation_error")
    assert field in answer.body["fields"]


@pytest.mark.parametrize("raw", ["[]", "null", "42", '"text"', "true"])
def test_a_body_that_is_not_an_object_is_4xx(admin_api, raw):
    answer = admin_api.post("/domains", raw=raw)
    assert answer.status in (400, 422)
    assert_error(answer, answer.status)


def test_an_empty_body_is_422_asking_for_one(admin_api):
    answer = admin_api.call("POST", "/users", raw=b"")
    assert_error(answer, 422)
    assert list(answer.body["fields"]) == ["body"]


def test_an_empty_object_is_422_naming_the_missing_fields(admin_api):
    answer = admin_api.post("/users", {})
    assert_error(answer, 422)
    assert set(answer.body["fields"]) == {"address", "password"}


def test_wrong_types_in_query_and_path_are_422(admin_api):
    assert_error(admin_api.get("/domains?limit=many"), 422)
    assert_error(admin_api.get("/domains?offset=-1"), 422)
    assert_error(admin_api.get("/domains/abc"), 422)
    assert_error(admin_api.get("/domains/1.5"), 422)


def test_a_huge_number_is_422(admin_api, admin):
    from adminpanel.mail import services as mail

    mail.create_domain(admin, name="example.com")
    body = {"address": "a@example.com", "password": "a-long-passphrase-x", "quota_mb": 10**30}
    answer = admin_api.post("/users", body)
    assert_error(answer, 422)
    assert "quota_mb" in answer.body["fields"]


def test_a_body_over_1_mb_is_413(admin_api):
    big = json.dumps({"name": "x" * MB})
    assert_error(admin_api.post("/domains", raw=big), 413, "request_too_large")


def test_a_body_of_exactly_1_mb_is_read(admin_api):
    body = '{"name": "' + "x" * (MB - 12) + '"}'
    assert len(body) == MB
    assert_error(admin_api.post("/domains", raw=body), 422)


def test_a_content_length_over_1_mb_is_413_before_the_body_is_read(admin_api):
    answer = admin_api.post("/domains", raw='{"name": "a.com"}', CONTENT_LENGTH=str(2 * MB))
    assert_error(answer, 413)


def test_a_body_over_1_mb_is_413_on_login_too(api):
    assert_error(api.post("/auth/login", raw="[" + "0," * MB + "0]"), 413)


def test_a_nonsense_content_length_is_400(admin_api):
    assert_error(admin_api.post("/domains", raw="{}", CONTENT_LENGTH="lots"), 400)


def test_a_nul_in_the_query_string_is_400(admin_api):
    assert_error(admin_api.get("/domains?search=%00"), 400)
    assert_error(admin_api.get("/logs?actor=a%00b"), 400)


def test_invalid_utf8_in_the_query_string_is_harmless(admin_api):
    assert admin_api.get("/domains?search=%ED%A0%80%FF").status == 200


def test_a_form_encoded_body_is_refused(admin_api):
    answer = admin_api.client.post(
        "/api/v1/domains",
        {"name": "a.com"},
        headers={"Authorization": f"Bearer {admin_api.token}"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "malformed_json"


def test_unicode_everywhere_is_fine(admin, admin_api):
    created = admin_api.post("/domains", {"name": "пример.испытание"})
    assert created.status == 201
    assert created.body["unicode_name"] == "пример.испытание"
    assert admin_api.get("/domains?search=%F0%9F%98%80").status == 200
    assert_error(admin_api.post("/domains", {"name": "😀.com"}), 422)
    assert_error(admin_api.post("/domains", {"name": "\u202eevil.com"}), 422)


def test_an_unknown_route_is_a_json_404(admin_api, api):
    for answer in (
        admin_api.get("/nothing-here"),
        api.get("/nothing-here"),
        admin_api.get("/domains/"),
        admin_api.get("/domains/1/2"),
        api.call("GET", "/../v2/domains"),
    ):
        assert_error(answer, 404, "not_found")
    response = api.client.get("/api/v2/domains")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_a_wrong_method_is_a_json_405_with_allow(admin_api):
    answer = admin_api.call("PUT", "/domains", {"name": "a.com"})
    assert_error(answer, 405, "method_not_allowed")
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert_error(admin_api.call("DELETE", "/me"), 405)
    assert_error(admin_api.get("/auth/login"), 405)


def test_api_answers_are_never_cached(admin_api):
    assert admin_api.get("/me").headers["Cache-Control"] == "no-store"


def test_the_api_needs_no_csrf_token(admin):
    client = Api()
    client.client = type(client.client)(enforce_csrf_checks=True)
    assert client.login("admin").status == 200
    assert client.post("/domains", {"name": "a.com"}).status == 201


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
def test_random_bodies_never_cause_a_server_error(admin_api, raw):
    for path in ("/domains", "/aliases", "/alias-domains", "/subadmins"):
        answer = admin_api.call("POST", path, raw=raw)
        assert answer.status < 500, answer
        assert answer.status == 201 or answer.error is not None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_random_json_values_in_every_field_never_cause_a_server_error(admin_api, value):
    body = {"address": value, "destinations": value, "password": value, "quota_mb": value}
    for path in ("/users", "/aliases"):
        answer = admin_api.post(
            path, {k: body[k] for k in body if k != "quota_mb" or path == "/users"}
        )
        assert answer.status < 500, answer
