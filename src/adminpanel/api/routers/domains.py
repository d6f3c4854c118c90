"""/domains: list, create, read, update, delete (Domains: View, Edit, Delete)."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from adminpanel.api.routers import ANY, ITEM, actor, page
from adminpanel.api.schemas import (
    DomainId,
    DomainIn,
    DomainOut,
    DomainPage,
    DomainPatch,
    PageQuery,
    responses,
)
from adminpanel.mail import selectors, services

router = Router(tags=["domains"])


@router.get("", response=responses({200: DomainPage}, *ANY))
def list_domains(request: HttpRequest, query: Query[PageQuery]) -> DomainPage:
    found = selectors.domains(actor(request), search=query.search)
    return DomainPage(**page(found, limit=query.limit, offset=query.offset, shape=DomainOut.of))


@router.post("", response=responses({201: DomainOut}, *ANY))
def create_domain(request: HttpRequest, payload: DomainIn) -> Status:
    domain = services.create_domain(
        actor(request),
        name=payload.name,
        active=payload.active,
        catch_all=payload.catch_all,
        mail_apps_may_use_mailbox_password=payload.mail_apps_may_use_mailbox_password,
        require_owner_2fa=payload.require_owner_2fa,
        request=request,
    )
    return Status(201, DomainOut.of(domain))


@router.get("/{domain_id}", response=responses({200: DomainOut}, *ITEM))
def get_domain(request: HttpRequest, domain_id: DomainId) -> DomainOut:
    return DomainOut.of(selectors.get_domain(actor(request), domain_id))


@router.patch("/{domain_id}", response=responses({200: DomainOut}, *ITEM))
def update_domain(request: HttpRequest, domain_id: DomainId, payload: DomainPatch) -> DomainOut:
    account = actor(request)
    domain = services.update_domain(
        account,
        selectors.get_domain(account, domain_id),
        active=payload.active,
        catch_all=payload.catch_all,
        mail_apps_may_use_mailbox_password=payload.mail_apps_may_use_mailbox_password,
        require_owner_2fa=payload.require_owner_2fa,
        request=request,
    )
    return DomainOut.of(domain)


@router.delete("/{domain_id}", response=responses({204: None}, *ITEM))
def delete_domain(request: HttpRequest, domain_id: DomainId, cascade: bool = False) -> Status:
    """A domain with mailboxes or aliases is deleted only with `?cascade=true` (then with them)."""
    account = actor(request)
    services.delete_domain(
        account, selectors.get_domain(account, domain_id), cascade=cascade, request=request
    )
    return Status(204, None)
