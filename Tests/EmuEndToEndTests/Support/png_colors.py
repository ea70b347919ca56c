#!/usr/bin/env python3
"""Counts the pixels of each colour given (#rrggbb) in a PNG, for tests that
check what a browser drew. Reads 8-bit RGB/RGBA PNGs without interlace, as
headless Chromium writes them, with nothing but the standard library.
Usage: png_colors.py FILE.png '#1f77b4' ... -> one 'COLOUR COUNT' line each."""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, "unsupported PNG"
    channels = 4 if colour == 6 else 3
    raw, stride = zlib.decompress(idat), width * channels
    previous, rows, i = bytearray(stride), [], 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = previous[x]
            c = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        previous = line
    for line in rows:
        for x in range(0, stride, channels):
            yield bytes(line[x:x + 3])


wanted = {bytes.fromhex(c.lstrip("#")): c for c in sys.argv[2:]}
counts = dict.fromkeys(wanted.values(), 0)
for rgb in pixels(sys.argv[1]):
    if rgb in wanted:
        counts[wanted[rgb]] += 1
for colour, count in counts.items():
    print(colour, count)
