"""A browser's User-Agent header in words, for Security → Sessions ("Firefox on Linux")."""

from ua_parser import parse_os, parse_user_agent


def describe(user_agent: str) -> str:
    """E.g. "Chrome on Android", "Mobile Safari on iOS"; "Unknown browser" when it says nothing."""
    if not user_agent:
        return "Unknown browser"
    browser = parse_user_agent(user_agent)
    system = parse_os(user_agent)
    name = browser.family if browser is not None else "Unknown browser"
    return f"{name} on {system.family}" if system is not None else name
