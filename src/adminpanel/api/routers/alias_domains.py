"""/alias-domains: list, create, read, update, delete (SPEC §16; the Domains section's levels:
View, Edit, Delete)."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from adminpanel.api.routers import ANY, ITEM, actor, page
from adminpanel.api.schemas import (
    AliasDomainId,
    AliasDomainIn,
    AliasDomainOut,
    AliasDomainPage,
    AliasDomainPatch,
    PageQuery,
    responses,
)
from adminpanel.mail import alias_domains, selectors

router = Router(tags=["alias domains"])


@router.get("", response=responses({200: AliasDomainPage}, *ANY))
def list_alias_domains(request: HttpRequest, query: Query[PageQuery]) -> AliasDomainPage:
    found = selectors.alias_domains(actor(request), search=query.search)
    return AliasDomainPage(
        **page(found, limit=query.limit, offset=query.offset, shape=AliasDomainOut.of)
    )


@router.post("", response=responses({201: AliasDomainOut}, *ANY))
def create_alias_domain(request: HttpRequest, payload: AliasDomainIn) -> Status:
    alias_domain = alias_domains.create_alias_domain(
        actor(request),
        name=payload.name,
        target=payload.target,
        active=payload.active,
        request=request,
    )
    return Status(201, AliasDomainOut.of(alias_domain))


@router.get("/{alias_domain_id}", response=responses({200: AliasDomainOut}, *ITEM))
def get_alias_domain(request: HttpRequest, alias_domain_id: AliasDomainId) -> AliasDomainOut:
    return AliasDomainOut.of(selectors.get_alias_domain(actor(request), alias_domain_id))


@router.patch("/{alias_domain_id}", response=responses({200: AliasDomainOut}, *ITEM))
def update_alias_domain(
    request: HttpRequest, alias_domain_id: AliasDomainId, payload: AliasDomainPatch
) -> AliasDomainOut:
    account = actor(request)
    alias_domain = alias_domains.update_alias_domain(
        account,
        selectors.get_alias_domain(account, alias_domain_id),
        active=payload.active,
        request=request,
    )
    return AliasDomainOut.of(alias_domain)


@router.delete("/{alias_domain_id}", response=responses({204: None}, *ITEM))
def delete_alias_domain(request: HttpRequest, alias_domain_id: AliasDomainId) -> Status:
    account = actor(request)
    alias_domains.delete_alias_domain(
        account, selectors.get_alias_domain(account, alias_domain_id), request=request
    )
    return Status(204, None)
