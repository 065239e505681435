#!/usr/bin/env python3
"""extract-vmlinux.py BZIMAGE OUT: write the uncompressed ELF kernel inside a bzImage.

Why: under TCG, the guest's own XZ decompression of Debian's bzImage costs ~3.5 s of every
boot. Debian's kernel has CONFIG_PVH=y, so QEMU can load the ELF directly through its PVH
entry note and skip the decompressor. The payload is found by scanning for compressor magic
numbers and keeping the first candidate that decompresses to an ELF image.
"""
import lzma
import os
import sys
import zlib


def candidates(data):
    for magic, kind in ((b"\xfd7zXZ\x00", "xz"), (b"\x1f\x8b\x08", "gzip")):
        pos = data.find(magic)
        while pos != -1:
            yield pos, kind
            pos = data.find(magic, pos + 1)


def decompress(blob, kind):
    try:
        if kind == "xz":
            return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(blob)
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(blob)
    except (lzma.LZMAError, zlib.error, EOFError):
        return b""


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: extract-vmlinux.py BZIMAGE OUT")
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, "rb") as f:
        data = f.read()
    for pos, kind in candidates(data):
        out = decompress(data[pos:], kind)
        if out[:4] == b"\x7fELF":
            tmp = dst + ".tmp"
            with open(tmp, "wb") as f:
                f.write(out)
            os.replace(tmp, dst)
            return
    sys.exit(f"extract-vmlinux: {src}: no xz or gzip payload that decompresses to an ELF")


main()
