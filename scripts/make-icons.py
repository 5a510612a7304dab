#!/usr/bin/env python3
"""Writes the web app's icons (Sources/mweb/Public/icon-*.png, icon.svg): a white
M on M's blue, drawn from one polygon so the PNGs and the SVG agree. Pure Python
(zlib), no imaging package; run it again after changing the shape."""
import os
import struct
import zlib

BLUE = (47, 111, 236)
WHITE = (255, 255, 255)
# The M, in units of the icon's side.
M = [(0.22, 0.74), (0.22, 0.26), (0.33, 0.26), (0.5, 0.5), (0.67, 0.26), (0.78, 0.26), (0.78, 0.74),
     (0.67, 0.74), (0.67, 0.44), (0.5, 0.67), (0.33, 0.44), (0.33, 0.74)]
PUBLIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "mweb", "Public")


def inside(x, y):
    """Even-odd rule: is (x, y) inside the M?"""
    hit = False
    for (x1, y1), (x2, y2) in zip(M, M[1:] + M[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def png(size):
    rows, n = [], 4  # 4×4 samples a pixel for smooth edges
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            cover = sum(inside((px + (i + 0.5) / n) / size, (py + (j + 0.5) / n) / size)
                        for i in range(n) for j in range(n)) / (n * n)
            row += bytes(round(b + (w - b) * cover) for b, w in zip(BLUE, WHITE))
        rows.append(bytes(row))
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


for size in (180, 192, 512):
    with open(os.path.join(PUBLIC, f"icon-{size}.png"), "wb") as f:
        f.write(png(size))
points = " ".join(f"{x * 512:g},{y * 512:g}" for x, y in M)
with open(os.path.join(PUBLIC, "icon.svg"), "w") as f:
    f.write(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" rx="96" '
            f'fill="#2f6fec"/><polygon points="{points}" fill="#fff"/></svg>\n')
