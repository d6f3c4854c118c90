"""Template context for the pages that offer security keys and passkeys."""

from adminpanel.twofactor.webauthn import by_host_name, keys_need_a_host_name


def security_keys(request) -> dict:
    """On a page opened by an IP address, keys cannot work: the pages say so before the click
    (and where they would work) instead of offering a button that can only fail."""
    url = by_host_name(request, request.path)
    if url is None:
        return {}
    return {"keys_unavailable": keys_need_a_host_name(request, request.path), "keys_url": url}
