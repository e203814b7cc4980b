"""OVS's ``struct ds`` output helpers that ofp-print relies on.

Hex dumps (``ds_put_hex_dump``: 16 bytes a line, offsets in hex, a ``-``
after the eighth byte, an ASCII column), printable escaping
(``ds_put_printable``), bit-name lists (``ofp_print_bit_names``) and
durations, reproduced character for character because ``ovs-ofctl``'s
output is compared with pyovs's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


def hex_dump(data: bytes, ofs: int = 0, ascii: bool = True) -> str:
    """OVS ``ds_put_hex_dump``."""
    out = []
    per_line = 16
    pos = 0
    size = len(data)
    while size > 0:
        start = ofs % per_line
        end = min(per_line, start + size)
        n = end - start
        line = [f"{ofs - start:08x}  ", "   " * start]
        for i in range(start, end):
            line.append(f"{data[pos + i - start]:02x}{'-' if i == per_line // 2 - 1 else ' '}")
        if ascii:
            line.append("   " * (per_line - end))
            line.append("|" + " " * start)
            for i in range(start, end):
                c = data[pos + i - start]
                line.append(chr(c) if 32 <= c < 127 else ".")
            line.append(" " * (per_line - end) + "|")
            out.append("".join(line) + "\n")
        else:
            out.append("".join(line).rstrip(" ") + "\n")
        ofs += n
        pos += n
        size -= n
    return "".join(out)


def printable(data: bytes) -> str:
    """OVS ``ds_put_printable``."""
    return "".join(chr(c) if 0x20 <= c <= 0x7E and c not in b'\\"' else f"\\{c:03o}"
                   for c in data)


def bit_names(bits: int, names: Mapping[int, str] | Callable[[int], str | None],
              sep: str = " ") -> str:
    """OVS ``ofp_print_bit_names``: known names lowest first, then leftover hex."""
    if not bits:
        return "0"
    lookup = names.get if isinstance(names, Mapping) else names
    parts = []
    for i in range(32):
        bit = 1 << i
        if bits & bit:
            name = lookup(bit)
            if name:
                parts.append(name)
                bits &= ~bit
    if bits:
        parts.append(f"0x{bits:x}")
    return sep.join(parts)


def duration(sec: int, nsec: int) -> str:
    """OVS ``ofp_print_duration``: ``1.5s``-style seconds."""
    text = f"{sec}"
    if nsec > 0:
        msec = nsec // 1000000
        text += f".{msec:03d}" if msec * 1000000 == nsec else "." + f"{nsec:09d}".rstrip("0")
    return text + "s"


def c_string(data: bytes) -> str:
    """A fixed-size, NUL-padded C string field as ``%.*s`` prints it."""
    end = data.find(b"\0")
    return (data if end < 0 else data[:end]).decode("latin-1")
