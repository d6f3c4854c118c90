"""Security state lives in the database: whatever one instance decided, the other knows."""

from testbed.cluster import Browser
from tests.cluster.instances import code, wrong_code

THROTTLED_1_MINUTE = "Too many failed attempts. Try again in 1 minute."


def log_in(url: str, account: dict) -> Browser:
    tab = Browser(url)
    assert tab.password_step(account["username"], account["password"]).status_code == 302
    r = tab.code_step(code(account))
    assert r.status_code == 302 and r.headers["Location"] == "/"
    return tab


def test_instances_started_together_made_one_admin(fleet, pg):
    assert pg.execute("SELECT count(*) FROM accounts_account WHERE is_owner").fetchone()[0] == 1


def test_failures_made_on_one_instance_count_on_the_other(accounts, a, b):
    [account] = accounts(1)
    on_a, on_b = Browser(a), Browser(b)
    on_a.password_step(account["username"], account["password"])
    on_b.password_step(account["username"], account["password"])

    for _ in range(5):
        r = on_a.code_step(wrong_code(account))
        assert "Invalid code." in r.text
    assert THROTTLED_1_MINUTE in r.text  # the 5th failure starts the wait

    r = on_b.code_step(code(account))  # the right code, on the other instance, during the wait
    assert r.status_code == 429
    assert THROTTLED_1_MINUTE in r.text
    assert int(r.headers["Retry-After"]) <= 60
    assert not on_b.logged_in()
    assert not on_a.logged_in()


def test_a_session_made_on_one_instance_works_on_the_other(accounts, a, b):
    [account] = accounts(1)
    tab = log_in(a, account)
    home = tab.on(b).get("/")
    assert home.status_code == 200
    assert account["username"] in home.text


def test_a_login_begun_on_one_instance_finishes_on_the_other(accounts, a, b):
    [account] = accounts(1)
    tab = Browser(a)
    tab.password_step(account["username"], account["password"])
    other = tab.on(b)
    other.get("/login")  # the pop-up, served by B from the session A wrote
    r = other.code_step(code(account))
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert tab.logged_in()


def test_logging_out_on_one_instance_ends_the_session_on_the_other(accounts, a, b):
    [account] = accounts(1)
    tab = log_in(a, account)
    stolen = tab.session_id  # a copy of the cookie, as another tab or an attacker keeps it
    assert tab.on(b).logged_in()

    tab.get("/")  # a page with the Log out button, for its CSRF token
    r = tab.post("/logout")
    assert r.status_code == 302

    replay = Browser(b)
    replay.http.cookies.set("adminpanel_session", stolen)
    r = replay.get("/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert not tab.on(b).logged_in()
