"""SPEC §12 "Sessions": a session ended on one instance is ended on every instance at once."""

from testbed.cluster import Browser

NEW_PASSWORD = "a-brand-new-passphrase-42"


def signed_in(url: str, account: dict) -> Browser:
    tab = Browser(url)
    r = tab.password_step(account["username"], account["password"])
    assert r.status_code == 302 and r.headers["Location"] == "/"
    return tab


def test_sign_out_all_other_sessions_on_one_instance_ends_them_on_the_other(accounts, a, b):
    [account] = accounts(1, two_factor=False)
    here, there = signed_in(a, account), signed_in(b, account)
    here.get("/security/sessions")
    r = here.post("/security/sessions/sign-out-others")
    assert r.status_code == 302
    assert not there.logged_in()  # asked on B, which made that session
    assert not there.on(a).logged_in()
    assert here.logged_in() and here.on(b).logged_in()


def test_a_password_change_on_one_instance_ends_the_other_sessions_on_the_other(accounts, a, b):
    [account] = accounts(1, two_factor=False)
    here, there = signed_in(a, account), signed_in(b, account)
    here.get("/security/password")
    r = here.post(
        "/security/password",
        {
            "old_password": account["password"],
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert r.status_code == 302
    assert not there.logged_in()
    assert here.on(b).logged_in()
