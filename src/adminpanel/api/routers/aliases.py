"""/aliases: list, create, read, update, delete (Aliases: View, Edit, Delete)."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from adminpanel.api.routers import ANY, ITEM, actor, page
from adminpanel.api.schemas import (
    AliasId,
    AliasIn,
    AliasOut,
    AliasPage,
    AliasPatch,
    MailQuery,
    responses,
)
from adminpanel.mail import selectors, services

router = Router(tags=["aliases"])


@router.get("", response=responses({200: AliasPage}, *ANY))
def list_aliases(request: HttpRequest, query: Query[MailQuery]) -> AliasPage:
    account, search, domain = actor(request), query.search, query.domain
    found = selectors.aliases(account, search=search, domain=domain)
    found = selectors.listed(account, found, search=search, domain=domain)
    return AliasPage(**page(found, limit=query.limit, offset=query.offset, shape=AliasOut.of))


@router.post("", response=responses({201: AliasOut}, *ANY))
def create_alias(request: HttpRequest, payload: AliasIn) -> Status:
    alias = services.create_alias(
        actor(request),
        address=payload.address,
        destinations=payload.destinations,
        active=payload.active,
        request=request,
    )
    return Status(201, AliasOut.of(alias, warnings=selectors.alias_warnings(alias)))


@router.get("/{alias_id}", response=responses({200: AliasOut}, *ITEM))
def get_alias(request: HttpRequest, alias_id: AliasId) -> AliasOut:
    return AliasOut.of(selectors.get_alias(actor(request), alias_id))


@router.patch("/{alias_id}", response=responses({200: AliasOut}, *ITEM))
def update_alias(request: HttpRequest, alias_id: AliasId, payload: AliasPatch) -> AliasOut:
    account = actor(request)
    alias = services.update_alias(
        account,
        selectors.get_alias(account, alias_id),
        destinations=payload.destinations,
        active=payload.active,
        request=request,
    )
    return AliasOut.of(alias, warnings=selectors.alias_warnings(alias))


@router.delete("/{alias_id}", response=responses({204: None}, *ITEM))
def delete_alias(request: HttpRequest, alias_id: AliasId) -> Status:
    account = actor(request)
    services.delete_alias(account, selectors.get_alias(account, alias_id), request=request)
    return Status(204, None)
