"""Template context for the pages that offer security keys and passkeys."""

from adminpanel.twofactor.webauthn import by_host_name, keys_need_a_host_name


def security_keys(request) -> dict:
    """On a page opened by an IP address, keys cannot work: the pages say so before the click
    (and where they would work) instead of offering a button that can only fail."""
    # The same page, when a link can open it (a page drawn for a POST, like the login pop-up
    # after the password, is reached from the start).
    path = request.path if request.method == "GET" else "/"
    url = by_host_name(request, path)
    if url is None:
        return {}
    return {"keys_unavailable": keys_need_a_host_name(request, path), "keys_url": url}
