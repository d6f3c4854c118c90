"""Reading a QR code as a phone's camera would."""

import re

import zxingcpp


def decode_qr(svg: str) -> str:
    """Read the QR code as a camera would: rasterize segno's one-path SVG and decode it."""
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))
    path = re.search(r'<path class="qrline" stroke="#000" d="([^"]+)"', svg).group(1)
    dark = [[False] * size for _ in range(size)]
    x = y = 0.0
    for command, dx, dy in re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path):
        if command == "M":
            x, y = float(dx), float(dy)
        elif command == "m":
            x, y = x + float(dx), y + float(dy)
        else:  # a horizontal run of dark modules on row y - 0.5
            for column in range(int(x), int(x + float(dx))):
                dark[int(y)][column] = True
            x += float(dx)
    scale = 4
    pixels = bytearray()
    for row in dark:
        line = bytes(0 if module else 255 for module in row for _ in range(scale))
        pixels += line * scale
    image = memoryview(bytes(pixels)).cast("B", (size * scale, size * scale))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, "no QR code found"
    return found[0].text
