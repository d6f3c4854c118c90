"""/users (mailboxes): list, create, read, update (and rename), delete; deleted mailboxes:
list, restore, purge now (Users: View, Edit, Delete); a mailbox's forwarding and automatic
reply (Users: View to read, Edit to set); revoke its app passwords and reset its owner's 2FA
(Users: Edit)."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from adminpanel.api.routers import ANY, ITEM, actor, page
from adminpanel.api.schemas import (
    AutomaticReplyIn,
    AutomaticReplyOut,
    DeletedUserOut,
    DeletedUserPage,
    ForwardingIn,
    ForwardingOut,
    MailQuery,
    PageQuery,
    RevokedAppPasswordsOut,
    UserId,
    UserIn,
    UserOut,
    UserPage,
    UserPatch,
    responses,
)
from adminpanel.mail import app_passwords, deleted, leaving, selectors, services
from adminpanel.owners import services as owners

router = Router(tags=["users"])


@router.get("", response=responses({200: UserPage}, *ANY))
def list_users(request: HttpRequest, query: Query[MailQuery]) -> UserPage:
    account, search, domain = actor(request), query.search, query.domain
    found = selectors.mailboxes(account, search=search, domain=domain)
    found = selectors.listed(account, found, search=search, domain=domain)
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


@router.get("/{user_id}/forwarding", response=responses({200: ForwardingOut}, *ITEM))
def get_forwarding(request: HttpRequest, user_id: UserId) -> ForwardingOut:
    return ForwardingOut.of(leaving.forwarding_of(selectors.get_mailbox(actor(request), user_id)))


@router.put("/{user_id}/forwarding", response=responses({200: ForwardingOut}, *ITEM))
def set_forwarding(request: HttpRequest, user_id: UserId, payload: ForwardingIn) -> ForwardingOut:
    account = actor(request)
    forwarding = leaving.set_forwarding(
        selectors.get_mailbox(account, user_id),
        destinations=payload.destinations,
        keep_copy=payload.keep_copy,
        actor=account,
        request=request,
    )
    return ForwardingOut.of(forwarding)


@router.get("/{user_id}/automatic-reply", response=responses({200: AutomaticReplyOut}, *ITEM))
def get_automatic_reply(request: HttpRequest, user_id: UserId) -> AutomaticReplyOut:
    mailbox = selectors.get_mailbox(actor(request), user_id)
    return AutomaticReplyOut.of(leaving.automatic_reply_of(mailbox))


@router.put("/{user_id}/automatic-reply", response=responses({200: AutomaticReplyOut}, *ITEM))
def set_automatic_reply(
    request: HttpRequest, user_id: UserId, payload: AutomaticReplyIn
) -> AutomaticReplyOut:
    account = actor(request)
    reply = leaving.set_automatic_reply(
        selectors.get_mailbox(account, user_id),
        **payload.model_dump(),
        actor=account,
        request=request,
    )
    return AutomaticReplyOut.of(reply)


@router.post(
    "/{user_id}/revoke-app-passwords", response=responses({200: RevokedAppPasswordsOut}, *ITEM)
)
def revoke_app_passwords(request: HttpRequest, user_id: UserId) -> RevokedAppPasswordsOut:
    """Every active app password of the mailbox is refused at the next IMAP or SMTP login and
    its open mail sessions end; logged, and the owner is told at the mailbox's address."""
    account = actor(request)
    mailbox = selectors.get_mailbox(account, user_id)
    revoked = app_passwords.revoke_all_app_passwords(mailbox, actor=account, request=request)
    return RevokedAppPasswordsOut(
        revoked=revoked, user=UserOut.of(selectors.get_mailbox(account, user_id))
    )


@router.post("/{user_id}/reset-2fa", response=responses({200: UserOut}, *ITEM, 409))
def reset_2fa(request: HttpRequest, user_id: UserId) -> UserOut:
    """The owner's app, security keys and recovery codes stop working and its My mailbox
    sessions end (a lost phone); logged, and the owner is told at the mailbox's address.
    409 `two_factor_not_enabled` when the owner has no 2FA (nothing is logged or mailed)."""
    account = actor(request)
    owners.reset_owner_2fa(account, selectors.get_mailbox(account, user_id), request=request)
    return UserOut.of(selectors.get_mailbox(account, user_id))
