"""The NinjaAPI instance mounted at /api/v1/ (SPEC §6)."""

from ninja import NinjaAPI, Swagger
from ninja.operation import Operation

from adminpanel.api import errors
from adminpanel.api.auth import BearerToken
from adminpanel.api.parser import StrictJsonParser
from adminpanel.api.routers import (
    alias_domains,
    aliases,
    auth,
    domains,
    logs,
    mailbox_csv,
    subadmins,
    users,
)

DESCRIPTION = """\
The Admin Panel's JSON API. Log in with `POST /auth/login` for a bearer token (1 hour), then
send `Authorization: Bearer <token>`. Accounts with two-factor authentication cannot log in
here (`403 two_factor_enabled`): use a Sub-Admin with API access only, restricted to known IPs.

Every error body is `{"error": CODE, "message": TEXT}`; bad input adds `"fields"`.
"""


class PanelAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Readable operation ids (`list_domains`, `login`): the route functions' own names."""
        return operation.view_func.__name__


api = PanelAPI(
    title="Admin Panel API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=BearerToken(),
    parser=StrictJsonParser(),
    # Served from our own static files (ninja's bundle), no CDN; no inline script, so the
    # panel's Content-Security-Policy holds on the docs page too.
    docs=Swagger(settings={"persistAuthorization": False}),
    openapi_url="/openapi.json",
    docs_url="/docs",
)
errors.install(api)
api.add_router("", auth.router)
api.add_router("/domains", domains.router)
api.add_router("/users", mailbox_csv.router)  # /users/import, /users/export: before ids
api.add_router("/users", users.router)
api.add_router("/aliases", aliases.router)
api.add_router("/alias-domains", alias_domains.router)
api.add_router("/logs", logs.router)
api.add_router("/subadmins", subadmins.router)
