"""The mail host's service files (mailserver/units.py) and the merge of the generated Postfix
settings into an operator's (mailserver/postconf.py), on their own: every port named once."""

from dataclasses import replace
from pathlib import Path

from adminpanel.mailserver import postconf, units
from adminpanel.mailserver.config import Database, debian_layout, master_services


def rendered(layout):
    return units.render(
        Database("sqlite", "/var/lib/adminpanel/db.sqlite3"),
        layout,
        program="/opt/adminpanel/.venv/bin/adminpanel",
        panel_user="adminpanel",
        variables={"ADMINPANEL_DATA_DIR": "/var/lib/adminpanel"},
    )


def test_the_from_check_is_a_service_of_its_own_on_the_layouts_port():
    layout = debian_layout()
    assert layout.sender_check_address == "127.0.0.1:7523"
    assert layout.room_address == "127.0.0.1:7522"
    files = rendered(replace(layout, sender_check_address="127.0.0.1:9523"))
    unit = files["systemd/adminpanel-sender-check.service"][0]
    assert "User=adminpanel\n" in unit and "Before=postfix.service" in unit
    assert unit.count("mailserver-sender-check --listen 127.0.0.1:9523") == 1
    assert (
        "mailserver-sender-check --listen 127.0.0.1:9523"
        in files["init.d/adminpanel-mailserver"][0]
    )


def test_every_service_listens_on_a_port_of_its_own():
    files = rendered(debian_layout())
    ports = [
        argument
        for name, (text, _mode) in files.items()
        if name.startswith("systemd/")
        for line in text.splitlines()
        if line.startswith("ExecStart=")
        for argument in line.split()
        if argument.startswith("127.0.0.1:")
    ]
    assert sorted(ports) == ["127.0.0.1:7520", "127.0.0.1:7521", "127.0.0.1:7522", "127.0.0.1:7523"]


def test_the_submission_milters_keep_the_operators_signer_and_drop_a_moved_from_check():
    name = "adminpanel_submission_milters"
    ours = "inet:127.0.0.1:7523"
    elsewhere = frozenset({"inet:127.0.0.1:7522"})  # the end-of-data policy's, now
    current = "inet:127.0.0.1:7522, inet:127.0.0.1:8891"
    merged = postconf.merge(name, current, ours, elsewhere)
    assert merged == "inet:127.0.0.1:7523, inet:127.0.0.1:8891"
    assert postconf.merge(name, merged, ours, elsewhere) == merged  # again: no change


def test_the_generated_master_cf_lines_are_the_services_postconf_sets():
    services = master_services(debian_layout())
    text = "# a comment\n" + "".join(f"{key}={entry}\n" for key, entry in services.items())
    assert postconf.services_of(text) == [f"{key}={entry}" for key, entry in services.items()]


def test_the_dkim_sync_is_a_service_of_its_own_beside_opendkims_settings_not_step_5s():
    """README step 8 installs it once OpenDKIM and dkim.env are there; step 5 installs every
    file of systemd/ and starts the init script's services, so it is in neither."""
    layout = replace(debian_layout(), dkim_tables=Path("/srv/dkim"))
    files = rendered(layout)
    unit = files["opendkim/adminpanel-dkim.service"][0]
    command = (
        "/opt/adminpanel/.venv/bin/adminpanel mailserver-dkim --out /srv/dkim "
        "--pid-file /run/opendkim/opendkim.pid --every 60"
    )
    assert f"ExecStart={command}\n" in unit and "User=" not in unit  # root: it chowns keys
    assert "After=opendkim.service" in unit
    assert unit.index("/etc/adminpanel/mailserver.env") < unit.index("/etc/adminpanel/dkim.env")
    script, mode = files["opendkim/adminpanel-dkim"]
    assert mode == 0o755 and "# Provides:          adminpanel-dkim\n" in script
    assert ". /etc/adminpanel/mailserver.env; . /etc/adminpanel/dkim.env;" in script
    assert command in script
    step_5 = [text for name, (text, _) in files.items() if not name.startswith("opendkim/")]
    assert not any("mailserver-dkim" in text for text in step_5)
