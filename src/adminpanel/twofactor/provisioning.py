"""What an authenticator app reads: the otpauth URI, its QR code and the key as text."""

from urllib.parse import quote

import segno


def otpauth_uri(key: str, username: str, issuer: str) -> str:
    """The Key URI Format, percent-encoded so every authenticator reads the same name.

    A colon in the issuer would split the label, so it is dropped; quote(safe="") encodes
    space as %20 (never +), and @, +, # and non-ASCII as UTF-8 escapes.
    """
    issuer = quote(issuer.replace(":", ""), safe="")
    label = f"{issuer}:{quote(username, safe='')}"
    return f"otpauth://totp/{label}?secret={key}&issuer={issuer}&algorithm=SHA1&digits=6&period=30"


def qr_svg(uri: str) -> str:
    """Inline SVG of the URI, scalable, with the accessible name "QR code"."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=1, border=4, omitsize=True, svgclass="qr", dark="#000", light="#fff"
    )
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code" ', 1)


def grouped(text: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(text[i : i + size] for i in range(0, len(text), size))
