#!/usr/bin/env python3
"""Shrinks a truecolour PNG (as rsvg-convert writes it) to an 8-bit palette PNG.

No pngquant in Debian's base set or Python imaging library here, so: decode
the PNG (8-bit RGB/RGBA, not interlaced), keep the 255 most frequent colours
plus the nearest of them for every other colour (popularity quantisation;
fine for a dashboard's flat colours and antialiased text), write an indexed
PNG. Alpha is dropped (composited over --background). Only the standard
library; ~20 s for a 1600x2500 image.
Usage: png_palette.py IN.png OUT.png [--colors 256] [--background 111217]
"""
import argparse
import struct
import sys
import zlib
from collections import Counter


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    i, idat, header = 8, [], None
    while i < len(data):
        length, kind = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        i += 12 + length
    width, height, depth, ctype, _, _, interlace = header
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise SystemExit(f"{path}: needs 8-bit RGB/RGBA, non-interlaced (got depth {depth}, type {ctype})")
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for x in range(bpp, stride):
                row[x] = (row[x] + row[x - bpp]) & 255
        elif kind == 2:
            row = bytearray((a + b) & 255 for a, b in zip(row, previous))
        elif kind == 3:
            for x in range(stride):
                left = row[x - bpp] if x >= bpp else 0
                row[x] = (row[x] + ((left + previous[x]) >> 1)) & 255
        elif kind == 4:
            for x in range(stride):
                a = row[x - bpp] if x >= bpp else 0
                b = previous[x]
                c = previous[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(row)
        previous = row
    return width, height, bpp, rows


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--colors", type=int, default=256)
    parser.add_argument("--background", default="111217")
    args = parser.parse_args()
    width, height, bpp, rows = read_png(args.src)
    bg = bytes.fromhex(args.background)

    def pixels(row):
        if bpp == 3:
            return [bytes(row[x:x + 3]) for x in range(0, len(row), 3)]
        out = []
        for x in range(0, len(row), 4):
            a = row[x + 3]
            if a == 255:
                out.append(bytes(row[x:x + 3]))
            else:
                out.append(bytes((row[x + k] * a + bg[k] * (255 - a)) // 255 for k in range(3)))
        return out

    image = [pixels(row) for row in rows]
    counts = Counter(p for row in image for p in row)
    palette = [c for c, _ in counts.most_common(args.colors)]
    index = {c: i for i, c in enumerate(palette)}
    for colour in counts:
        if colour not in index:
            r, g, b = colour
            index[colour] = min(range(len(palette)), key=lambda i: (
                2 * (palette[i][0] - r) ** 2 + 4 * (palette[i][1] - g) ** 2 + 3 * (palette[i][2] - b) ** 2))
    raw = bytearray()
    for row in image:
        raw.append(0)
        raw.extend(index[p] for p in row)
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
    png += chunk(b"PLTE", b"".join(palette))
    png += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    png += chunk(b"IEND", b"")
    with open(args.dst, "wb") as f:
        f.write(png)
    print(f"{args.dst}: {width}x{height}, {len(palette)} colours (of {len(counts)}), {len(png)} bytes")


if __name__ == "__main__":
    sys.exit(main())
