"""SPEC §11: of simultaneous submissions of one signed WebAuthn answer, exactly one succeeds,
on any instance.

The answers are real: a software key (tests/softkey.py) signs the challenge the panel issued.
Both instances are reached by one public name (the Host header a load balancer passes on), so
the relying party and origin are the same wherever a request lands.
"""

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests

from testbed.cluster import Browser
from tests.softkey import SoftKey

SUBMISSIONS = 20
# A late request may find its session already replaced by the winner's login: to it, the
# answer belongs to another session. Every other one finds the challenge spent, or the wait
# that the failures before it earned.
REFUSALS = (
    "This security key answer has already been used.",
    "This answer belongs to another session.",
    "Too many failed attempts. Try again in",
)
ALERT = re.compile(r'<p class="message error" role="alert">([^<]*)</p>')


def test_of_20_simultaneous_submissions_of_one_passkey_answer_exactly_one_signs_in(
    fleet, accounts, pg
):
    [account] = accounts(1, two_factor=False)
    port = urlsplit(fleet.urls[0]).port
    public = f"http://localhost:{port}"  # the name both instances are reached by
    key = SoftKey(public)

    # The account registers a passkey (its first second factor) on instance A.
    owner = Browser(public)
    assert owner.password_step(account["username"], account["password"]).status_code == 302
    owner.get("/security/2fa")
    options = owner.post("/webauthn/options", {"purpose": "register", "name": "Passkey"})
    assert options.status_code == 200, options.text
    added = owner.post(
        "/security/2fa/keys/add",
        {"name": "Passkey", "credential": json.dumps(key.create(options.json()["options"]))},
    )
    assert "Two-factor authentication is enabled." in added.text

    # A visitor asks for a passkey challenge; the key signs it once.
    visitor = Browser(public)
    visitor.get("/login")
    challenge = visitor.post("/webauthn/options", {"purpose": "passkey"})
    answer = json.dumps(key.get(challenge.json()["options"]))
    cookies = visitor.http.cookies.get_dict()
    barrier = threading.Barrier(SUBMISSIONS)

    def submit(i: int) -> requests.Response:
        instance = fleet.urls[i % len(fleet.urls)]  # half go to B
        barrier.wait()
        return requests.post(
            instance + "/login/passkey",
            data={"csrfmiddlewaretoken": visitor.token, "credential": answer},
            cookies=cookies,
            headers={
                "Host": f"localhost:{port}",
                "Origin": public,
                "Referer": public + "/login",
                "User-Agent": "adminpanel-cluster-test",
            },
            allow_redirects=False,
            timeout=60,
        )

    with ThreadPoolExecutor(SUBMISSIONS) as pool:
        answers = list(pool.map(submit, range(SUBMISSIONS)))

    statuses = [r.status_code for r in answers]
    assert statuses.count(302) == 1, statuses
    assert answers[statuses.index(302)].headers["Location"] == "/"
    for r in answers:
        if r.status_code != 302:
            assert r.status_code in (200, 429), r.status_code
            said = ALERT.findall(r.text)
            assert said and any(said[0].startswith(m) for m in REFUSALS), said
    signed_in = pg.execute(
        "SELECT count(*) FROM audit_event WHERE actor_name = %s AND event = %s",
        [account["username"], "passkey_sign_in"],
    ).fetchone()[0]
    logins = pg.execute(
        "SELECT count(*) FROM audit_event WHERE actor_name = %s AND event = 'web_login' "
        "AND (details->>'two_factor')::boolean",
        [account["username"]],
    ).fetchone()[0]
    assert (signed_in, logins) == (1, 1)
