"""/users (mailboxes): list, create, read, update (and rename), delete; deleted mailboxes:
list, restore, purge now (Users: View, Edit, Delete)."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from adminpanel.api.routers import ANY, ITEM, actor, page
from adminpanel.api.schemas import (
    DeletedUserOut,
    DeletedUserPage,
    MailQuery,
    PageQuery,
    UserId,
    UserIn,
    UserOut,
    UserPage,
    UserPatch,
    responses,
)
from adminpanel.mail import deleted, selectors, services

router = Router(tags=["users"])


@router.get("", response=responses({200: UserPage}, *ANY))
def list_users(request: HttpRequest, query: Query[MailQuery]) -> UserPage:
    found = selectors.mailboxes(actor(request), search=query.search, domain=query.domain)
    return UserPage(**page(found, limit=query.limit, offset=query.offset, shape=UserOut.of))


@router.get("/deleted", response=responses({200: DeletedUserPage}, *ANY))
def list_deleted_users(request: HttpRequest, query: Query[PageQuery]) -> DeletedUserPage:
    found = deleted.deleted_mailboxes(actor(request), search=query.search)
    shape = DeletedUserOut.of
    return DeletedUserPage(**page(found, limit=query.limit, offset=query.offset, shape=shape))


@router.delete("/deleted/{user_id}", response=responses({204: None}, *ITEM))
def purge_deleted_user(request: HttpRequest, user_id: UserId) -> Status:
    """Purge now: the mail host removes its mail at its next purge run; no way back."""
    account = actor(request)
    deleted.purge_now(account, deleted.get_deleted(account, user_id), request=request)
    return Status(204, None)


@router.post("/{user_id}/restore", response=responses({200: UserOut}, *ITEM))
def restore_user(request: HttpRequest, user_id: UserId) -> UserOut:
    account = actor(request)
    mailbox = deleted.restore_mailbox(
        account, deleted.get_deleted(account, user_id), request=request
    )
    return UserOut.of(selectors.get_mailbox(account, mailbox.pk))


@router.post("", response=responses({201: UserOut}, *ANY))
def create_user(request: HttpRequest, payload: UserIn) -> Status:
    mailbox = services.create_mailbox(
        actor(request),
        address=payload.address,
        password=payload.password,
        display_name=payload.display_name,
        quota_mb=payload.quota_mb,
        active=payload.active,
        sign_in_allowed=payload.sign_in_allowed,
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
        address=payload.address,
        keep_old_address_as_alias=payload.keep_old_address_as_alias,
        display_name=payload.display_name,
        password=payload.password,
        quota_mb=payload.quota_mb,
        active=payload.active,
        sign_in_allowed=payload.sign_in_allowed,
        request=request,
    )
    return UserOut.of(mailbox)


@router.delete("/{user_id}", response=responses({204: None}, *ITEM))
def delete_user(request: HttpRequest, user_id: UserId) -> Status:
    account = actor(request)
    services.delete_mailbox(account, selectors.get_mailbox(account, user_id), request=request)
    return Status(204, None)
