"""The JSON API (SPEC §6): django-ninja routers, bearer tokens, one error format."""
