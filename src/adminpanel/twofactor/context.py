"""Template context for the pages that offer security keys and passkeys."""

from django.core.exceptions import DisallowedHost

from adminpanel.twofactor.ceremony import by_host_name, keys_need_a_host_name


def security_keys(request) -> dict:
    """On a page opened by an IP address, keys cannot work: the pages say so before the click
    (and where they would work) instead of offering a button that can only fail."""
    # The same page, when a link can open it (a page drawn for a POST, like the login pop-up
    # after the password, is reached from the start).
    path = request.path if request.method == "GET" else "/"
    try:
        url = by_host_name(request, path)
    except DisallowedHost:  # the 400 page of a request with a Host not ours: no keys there
        return {}
    if url is None:
        return {}
    return {"keys_unavailable": keys_need_a_host_name(request, path), "keys_url": url}
