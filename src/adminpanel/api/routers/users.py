"""/users (mailboxes): list, create, read, update, delete (Users: View, Edit, Delete)."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from adminpanel.api.routers import ANY, ITEM, actor, page
from adminpanel.api.schemas import (
    MailQuery,
    UserId,
    UserIn,
    UserOut,
    UserPage,
    UserPatch,
    responses,
)
from adminpanel.mail import selectors, services

router = Router(tags=["users"])


@router.get("", response=responses({200: UserPage}, *ANY))
def list_users(request: HttpRequest, query: Query[MailQuery]) -> UserPage:
    found = selectors.mailboxes(actor(request), search=query.search, domain=query.domain)
    return UserPage(**page(found, limit=query.limit, offset=query.offset, shape=UserOut.of))


@router.post("", response=responses({201: UserOut}, *ANY))
def create_user(request: HttpRequest, payload: UserIn) -> Status:
    mailbox = services.create_mailbox(
        actor(request),
        address=payload.address,
        password=payload.password,
        display_name=payload.display_name,
        quota_mb=payload.quota_mb,
        active=payload.active,
        request=request,
    )
    return Status(201, UserOut.of(mailbox))


@router.get("/{user_id}", response=responses({200: UserOut}, *ITEM))
def get_user(request: HttpRequest, user_id: UserId) -> UserOut:
    return UserOut.of(selectors.get_mailbox(actor(request), user_id))


@router.patch("/{user_id}", response=responses({200: UserOut}, *ITEM))
def update_user(request: HttpRequest, user_id: UserId, payload: UserPatch) -> UserOut:
    account = actor(request)
    mailbox = services.update_mailbox(
        account,
        selectors.get_mailbox(account, user_id),
        display_name=payload.display_name,
        password=payload.password,
        quota_mb=payload.quota_mb,
        active=payload.active,
        request=request,
    )
    return UserOut.of(mailbox)


@router.delete("/{user_id}", response=responses({204: None}, *ITEM))
def delete_user(request: HttpRequest, user_id: UserId) -> Status:
    account = actor(request)
    services.delete_mailbox(account, selectors.get_mailbox(account, user_id), request=request)
    return Status(204, None)
