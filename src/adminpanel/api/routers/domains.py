"""/domains: list, create, read, update, delete (Domains: View, Edit, Delete); a domain's DNS
records (View) and its DKIM key's rotation (Edit)."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from adminpanel.api.routers import ANY, ITEM, actor, page
from adminpanel.api.schemas import (
    DkimRemovedOut,
    DkimRotatedOut,
    DnsRecordOut,
    DomainId,
    DomainIn,
    DomainOut,
    DomainPage,
    DomainPatch,
    PageQuery,
    responses,
)
from adminpanel.mail import dkim, dns, selectors, services

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


def _records(domain) -> list[DnsRecordOut]:
    return [DnsRecordOut(type=r.type, name=r.name, value=r.value) for r in dns.records(domain)]


@router.get("/{domain_id}/dns", response=responses({200: list[DnsRecordOut]}, *ITEM))
def dns_records(request: HttpRequest, domain_id: DomainId) -> list[DnsRecordOut]:
    """The records the domain needs at its DNS provider: MX, SPF, DKIM (every published key),
    DMARC, and the mail apps' autoconfiguration (CNAME and RFC 6186 SRV)."""
    return _records(selectors.get_domain(actor(request), domain_id))


@router.post("/{domain_id}/dkim/rotate", response=responses({200: DkimRotatedOut}, *ITEM, 409))
def rotate_dkim(request: HttpRequest, domain_id: DomainId) -> DkimRotatedOut:
    """A new DKIM key under a new selector signs from now on: publish its record at once. The
    old key stays in the DNS records until remove-old-key (409 while 3 old keys wait)."""
    account = actor(request)
    domain = selectors.get_domain(account, domain_id)
    key = dkim.rotate(account, domain, request=request)
    records = _records(domain)
    return DkimRotatedOut(
        selector=key.selector,
        record=next(r for r in records if r.name.startswith(f"{key.selector}._domainkey.")),
        old_selectors=[k.selector for k in dkim.keys_of(domain)[1:]],
    )


@router.post("/{domain_id}/dkim/remove-old-key", response=responses({200: DkimRemovedOut}, *ITEM))
def remove_old_dkim_key(request: HttpRequest, domain_id: DomainId) -> DkimRemovedOut:
    """Remove old key: only the signing key stays in the DNS records."""
    account = actor(request)
    removed = dkim.remove_old_keys(
        account, selectors.get_domain(account, domain_id), request=request
    )
    return DkimRemovedOut(removed=removed)
