"""Issue 17 item 4: the audit events come from one catalogue. Every recorded name is a member,
with its words for the Logs page and its groups; no name is spelled anywhere else."""

import ast
import pathlib
import re

import pytest

from adminpanel import audit
from adminpanel.audit.catalogue import LOGIN_EVENTS, AuditEvent, Group, Subject, in_group
from adminpanel.audit.words import event_label, events_matching
from adminpanel.ops.metrics import LOGIN_OUTCOMES
from adminpanel.security.overview import ATTEMPT_WORDS

SRC = pathlib.Path(__file__).resolve().parents[2] / "src" / "adminpanel"
# What a recorded event may be: a member, or one outcome of a channel's password step.
NAME = "AuditEvent"
NAMERS = {NAME, "LOGIN_EVENTS[channel]"}
CHANGES = ast.parse((SRC / "audit" / "changes.py").read_text())

# The names recorded when the catalogue was made (issue 17): stored rows, saved filters and CSV
# exports hold them, so each stays a member with this very value.
RECORDED_BEFORE = """
    access_confirm_failed access_confirm_throttled access_confirmed admin_created
    alias_created alias_deleted alias_domain_created alias_domain_deleted alias_domain_updated
    alias_updated api_login api_login_failed api_login_refused api_login_throttled api_logout
    api_token_refused api_token_revoked automatic_reply_changed domain_created domain_deleted
    domain_updated email_change_requested forwarding_changed mailbox_created mailbox_deleted
    mailbox_purge_requested mailbox_purged mailbox_renamed mailbox_restored mailbox_updated
    mailboxes_imported notice_deferred notice_failed notice_sent passkey_login_failed
    passkey_sign_in password_change_failed password_change_throttled password_changed
    policy_changed profile_updated subadmin_created subadmin_deleted subadmin_updated
    web_login web_login_2fa_not_completed web_login_failed web_login_password_accepted
    web_login_refused web_login_throttled web_logout web_session_ended web_sessions_ended
    webauthn_counter_regressed webauthn_key_added webauthn_key_refused webauthn_key_removed
    webauthn_key_used 2fa_app_added 2fa_app_removed 2fa_app_replaced 2fa_disabled 2fa_enabled
    2fa_failed 2fa_recovery_code_used 2fa_recovery_codes_regenerated 2fa_reset 2fa_setup_started
    2fa_throttled
""".split()


def test_every_name_recorded_before_the_catalogue_is_a_member_with_the_same_value():
    assert len(RECORDED_BEFORE) == 69
    assert set(RECORDED_BEFORE) <= {event.value for event in AuditEvent}


def test_a_member_is_named_after_its_stored_name():
    for event in AuditEvent:
        assert event.name == event.value.upper().replace("2FA", "TWO_FACTOR")
        assert str(event) == event.value  # what a row, a metric label and a JSON line hold


def test_every_event_has_its_own_words_on_the_logs_page():
    labels = [event.label for event in AuditEvent]
    assert all(label.strip() for label in labels)
    assert len(set(labels)) == len(labels), "two events would read the same on the Logs page"
    for event in AuditEvent:
        assert event_label(event.value) == event.label


def test_the_logs_search_finds_an_event_by_its_words():
    assert AuditEvent.PASSKEY_SIGN_IN in events_matching("PASSKEY")
    assert events_matching("confirm access") == [
        AuditEvent.ACCESS_CONFIRM_FAILED,
        AuditEvent.ACCESS_CONFIRM_THROTTLED,
    ]


def test_a_name_no_member_has_is_shown_in_plain_words():
    assert event_label("an_event_of_long_ago") == "An event of long ago"


def test_every_group_has_members_and_home_has_words_for_each_failed_attempt():
    for group in Group:
        assert in_group(group), group
    assert set(ATTEMPT_WORDS) == set(in_group(Group.FAILED_ATTEMPT))


def test_each_channel_of_the_password_step_has_its_four_outcomes():
    for channel, events in LOGIN_EVENTS.items():
        assert all(event.value.startswith(f"{channel}_login") for event in vars(events).values())
        assert Group.SIGN_IN in events.succeeded.groups
        assert Group.LOGIN_FAILURE in events.failed.groups
    assert set(in_group(Group.SIGN_IN)) <= set(LOGIN_OUTCOMES)
    assert set(in_group(Group.LOGIN_FAILURE)) <= set(LOGIN_OUTCOMES)


def test_record_refuses_a_name_instead_of_a_member():
    for name in ("no_such_event", "web_login"):
        with pytest.raises(TypeError, match="member of AuditEvent"):
            audit.record(name, actor_name="someone")


def test_record_refuses_a_row_without_the_details_its_event_carries():
    with pytest.raises(ValueError, match="wait_seconds"):
        audit.record(AuditEvent.TWO_FACTOR_THROTTLED, actor_name="someone", failures=5)


def test_record_refuses_an_account_to_be_about_that_its_event_takes_from_elsewhere():
    """An actor's own event is about the actor; mail data is about no account."""
    for event in (AuditEvent.PASSWORD_CHANGED, AuditEvent.DOMAIN_CREATED):
        assert event.about is not Subject.NAMED
        with pytest.raises(ValueError, match="about_account"):
            audit.record(event, actor_name="someone", about_account=object())


# --- the source names members, never strings ---------------------------------------------


def _python_files():
    return [p for p in sorted(SRC.rglob("*.py")) if "migrations" not in p.parts]


def _templates(node: ast.AST) -> list[str]:
    """The strings an expression builds from pieces (f-string, %, +, .format), as regular
    expressions in which each variable piece matches anything."""
    if isinstance(node, ast.JoinedStr):
        pieces = node.values
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        pieces = [node.left, node.right]
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
    ):
        pieces = [node.func.value]
    else:
        return []
    constants = [
        p.value for p in pieces if isinstance(p, ast.Constant) and isinstance(p.value, str)
    ]
    if not constants:
        return []
    parts = []
    for piece in pieces:
        if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
            literal = re.escape(piece.value)
            parts.append(re.sub(r"\\\{[^}]*\\\}|%s", ".+", literal))
        else:
            parts.append(".+")
    return ["".join(parts)]


def test_no_event_name_is_built_from_pieces():
    """f"{channel}_login_failed" spelled three events nobody could find by name."""
    built = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            for template in _templates(node):
                names = [e.value for e in AuditEvent if re.fullmatch(template, e.value)]
                if names:
                    built.append(f"{path.relative_to(SRC)}:{node.lineno} can spell {names}")
    assert built == []


def test_the_scan_finds_a_name_built_by_an_f_string():
    (node,) = ast.parse('f"{channel}_login_refused"').body
    (template,) = _templates(node.value)
    assert re.fullmatch(template, "web_login_refused")


def _catalogue_names(tree: ast.AST) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "AuditEvent"
    ]


def _recorders(tree: ast.AST) -> dict[str, tuple[int, str]]:
    """What records an event here: audit.record (its first argument), the shared helpers of
    audit.changes (update_and_log) and any function of the module with a parameter annotated
    AuditEvent (a helper that records what it is given)."""
    return {"record": (0, "event"), **_helpers(CHANGES), **_helpers(tree)}


def _helpers(tree: ast.AST) -> dict[str, tuple[int, str]]:
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            positional = node.args.posonlyargs + node.args.args
            for arg in positional + node.args.kwonlyargs:
                if arg.annotation is not None and ast.unparse(arg.annotation) == NAME:
                    index = positional.index(arg) if arg in positional else -1
                    found[node.name] = (index, arg.arg)
    return found


def _event_arguments(tree: ast.AST) -> list[tuple[int, ast.expr, set[str]]]:
    """(line, expression, the enclosing function's parameters typed AuditEvent) of each event
    a call in this module passes to a recorder."""
    recorders = _recorders(tree)
    found = []

    def visit(node: ast.AST, typed: set[str]) -> None:
        if isinstance(node, ast.FunctionDef):
            args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            typed = {a.arg for a in args if a.annotation and ast.unparse(a.annotation) == NAME}
        if isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            callee = node.func.id if isinstance(node.func, ast.Name) else callee
            if callee in recorders:
                index, name = recorders[callee]
                passed = node.args[index : index + 1] if index >= 0 else []
                passed += [k.value for k in node.keywords if k.arg == name]
                found.extend((node.lineno, arg, typed) for arg in passed)
        for child in ast.iter_child_nodes(node):
            visit(child, typed)

    visit(tree, set())
    return found


def _problems(path: pathlib.Path, root: pathlib.Path = SRC) -> list[str]:
    tree = ast.parse(path.read_text())
    where = path.relative_to(root)
    members = {event.name for event in AuditEvent}
    found = [f"{where}:{n} AuditEvent.{a}" for n, a in _catalogue_names(tree) if a not in members]
    for line, arg, typed in _event_arguments(tree):
        if isinstance(arg, ast.Name) and arg.id in typed:
            continue  # a helper's parameter, itself typed AuditEvent
        if not (isinstance(arg, ast.Attribute) and ast.unparse(arg.value) in NAMERS):
            found.append(f"{where}:{line} records {ast.unparse(arg)}, not a member")
    return found


def test_the_source_records_only_members_of_the_catalogue():
    """Every record() names a member, directly or through a helper's parameter typed as one;
    every AuditEvent.X the source names exists (a typo would fail only when that line runs)."""
    assert [problem for path in _python_files() for problem in _problems(path)] == []


def test_the_scan_finds_a_string_a_misspelt_member_and_an_untyped_helper(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def _log(event, **details):\n"
        "    audit.record(event, **details)\n"
        "def _create(*, event: AuditEvent):\n"
        "    audit.record(event)\n"
        "audit.record('web_login')\n"
        "audit.record(AuditEvent.WEB_LOGGIN)\n"
        "_create(event='alias_created')\n"
    )
    assert _problems(bad, root=tmp_path) == [
        "bad.py:6 AuditEvent.WEB_LOGGIN",
        "bad.py:2 records event, not a member",
        "bad.py:5 records 'web_login', not a member",
        "bad.py:7 records 'alias_created', not a member",
    ]


def _recorded(tree: ast.AST) -> set[str]:
    return {
        arg.attr
        for _, arg, _ in _event_arguments(tree)
        if isinstance(arg, ast.Attribute) and ast.unparse(arg.value) == "AuditEvent"
    }


def test_every_member_is_recorded_somewhere():
    """A member nobody records is a Logs filter that finds nothing. (A retired event keeps its
    member for its old rows: list it here when that day comes.)"""
    recorded = {name for path in _python_files() for name in _recorded(ast.parse(path.read_text()))}
    by_channel = {event.name for events in LOGIN_EVENTS.values() for event in vars(events).values()}
    assert {event.name for event in AuditEvent} - recorded - by_channel == set()
