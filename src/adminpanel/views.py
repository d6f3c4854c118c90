"""Error pages, calm and in the panel's own words."""

from django.shortcuts import render

from adminpanel.accounts.permissions import NotPermitted


def _error(request, status: int, title: str, text: str):
    return render(request, "error.html", {"title": title, "text": text}, status=status)


def csrf_failure(request, reason: str = ""):
    return _error(
        request,
        403,
        "This form has expired",
        "The page was open too long or was sent from somewhere else. "
        "Go back, reload the page and try again.",
    )


def bad_request(request, exception=None):
    return _error(request, 400, "Bad request", "The request could not be understood.")


def form_too_large(request, limit: int):
    return _error(
        request,
        400,
        "Bad request",
        f"The form sent more than {limit // (1024 * 1024)} MB of data. Go back and send it "
        "again with less.",
    )


def forbidden(request, exception=None):
    """The 403 page; a permission check's refusal names what is missing and who can give it."""
    if isinstance(exception, NotPermitted):
        return _error(request, 403, "Not allowed", str(exception))
    return _error(request, 403, "Not allowed", "Your account may not open this page.")


def not_found(request, exception=None):
    return _error(request, 404, "Page not found", "There is nothing at this address.")


def server_error(request):
    return _error(request, 500, "Something went wrong", "Please try again in a moment.")
