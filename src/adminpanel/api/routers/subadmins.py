"""/subadmins: list, create, read, update, delete, reset-2fa (the Admin only)."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from adminpanel import clock
from adminpanel.accounts.models import Account
from adminpanel.accounts.permissions import require_admin
from adminpanel.api.routers import ANY, ITEM, actor, page
from adminpanel.api.schemas import (
    PageQuery,
    SubadminId,
    SubadminIn,
    SubadminOut,
    SubadminPage,
    SubadminPatch,
    SubadminSaved,
    levels_in,
    responses,
)
from adminpanel.login import confirm
from adminpanel.subadmins import services as subadmins
from adminpanel.twofactor import interface as twofactor

router = Router(tags=["subadmins"])


def recent_actor(request: HttpRequest) -> Account:
    """The Admin, whose token must come from a login of the last 10 minutes (SPEC §12)."""
    account = actor(request)
    require_admin(account)  # first: a Sub-Admin (or an API key) is not told to log in again
    confirm.require_recent_login(request.auth.created_at, clock.now())  # type: ignore[attr-defined]
    return account


def _out(account: Account) -> SubadminOut:
    return SubadminOut.of(account, methods=twofactor.methods(account))


def _saved(account: Account, warnings: list[str]) -> SubadminSaved:
    return SubadminSaved(**_out(account).model_dump(), warnings=warnings)


@router.get("", response=responses({200: SubadminPage}, *ANY))
def list_subadmins(request: HttpRequest, query: Query[PageQuery]) -> SubadminPage:
    found = subadmins.list_subadmins(actor(request), search=query.search)
    return SubadminPage(**page(found, limit=query.limit, offset=query.offset, shape=_out))


@router.post("", response=responses({201: SubadminSaved}, *ANY))
def create_subadmin(request: HttpRequest, payload: SubadminIn) -> Status:
    """A new Sub-Admin; `warnings` says e.g. that API access from any IP is risky."""
    account, warnings = subadmins.create_subadmin(
        recent_actor(request),
        username=payload.username,
        password=payload.password,
        active=payload.active,
        web_access=payload.access.admin_panel,
        api_access=payload.access.api,
        levels=levels_in(payload.permissions),
        allowed_ips=payload.allowed_ips,
        require_2fa=payload.require_2fa,
        domains_scope=payload.domains_scope,
        request=request,
    )
    return Status(201, _saved(account, warnings))


@router.get("/{subadmin_id}", response=responses({200: SubadminOut}, *ITEM))
def get_subadmin(request: HttpRequest, subadmin_id: SubadminId) -> SubadminOut:
    return _out(subadmins.get_subadmin(actor(request), subadmin_id))


@router.patch("/{subadmin_id}", response=responses({200: SubadminSaved}, *ITEM))
def update_subadmin(
    request: HttpRequest, subadmin_id: SubadminId, payload: SubadminPatch
) -> SubadminSaved:
    """Changing the password, deactivating or removing API access revokes its tokens at once."""
    admin = recent_actor(request)
    access = payload.access
    account, warnings = subadmins.update_subadmin(
        admin,
        subadmins.get_subadmin(admin, subadmin_id),
        username=payload.username,
        password=payload.password,
        active=payload.active,
        web_access=access.admin_panel if access else None,
        api_access=access.api if access else None,
        levels=levels_in(payload.permissions),
        allowed_ips=payload.allowed_ips,
        require_2fa=payload.require_2fa,
        domains_scope=payload.domains_scope,
        request=request,
    )
    return _saved(account, warnings)


@router.delete("/{subadmin_id}", response=responses({204: None}, *ITEM))
def delete_subadmin(request: HttpRequest, subadmin_id: SubadminId) -> Status:
    admin = recent_actor(request)
    subadmins.delete_subadmin(admin, subadmins.get_subadmin(admin, subadmin_id), request=request)
    return Status(204, None)


@router.post("/{subadmin_id}/reset-2fa", response=responses({200: SubadminOut}, *ITEM))
def reset_2fa(request: HttpRequest, subadmin_id: SubadminId) -> SubadminOut:
    """For a Sub-Admin who lost the phone: 2FA off, so it logs in with its password."""
    admin = recent_actor(request)
    account = subadmins.get_subadmin(admin, subadmin_id)
    subadmins.reset_subadmin_2fa(admin, account, request=request)
    return _out(account)
