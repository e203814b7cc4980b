"""Messages as ``ovs-ofctl ofp-print`` shows them (OVS ``ofp_to_string``).

The output is a header line (``OFPT_FLOW_MOD (OF1.3) (xid=0x5):``), then the
body's own text from its codec's ``format``, then -- at verbosity 5 and
above, or when the message cannot be decoded -- a hex dump.  Short,
truncated and over-long buffers get OVS's exact notices.  Decode errors are
printed as ``***decode error: NAME***`` exactly where OVS prints them, so
that malformed input prints the same way in both tools.
"""

from __future__ import annotations

from collections.abc import Mapping

from .codec import FormatContext, codecs, decode_body
from .dstext import hex_dump
from .errors import OFError
from .header import decode_hdrs, decode_header, headers_len, lookup

_VERSION_NAMES = {1: "", 2: " (OF1.1)", 3: " (OF1.2)", 4: " (OF1.3)", 5: " (OF1.4)",
                  6: " (OF1.5)"}
_STATS_TYPES = {1: (16, 17)}


def version_suffix(version: int) -> str:
    return _VERSION_NAMES.get(version, f" (OF 0x{version:02x})")


def _header_line(name: str, version: int, xid: int) -> str:
    return f"{name}{version_suffix(version)} (xid=0x{xid:x}):"


def _stats_flags(data: bytes, version: int, is_request: bool) -> str:
    flags = int.from_bytes(data[10:12], "big")
    if not flags:
        return ""
    text = " flags="
    if (not is_request or version >= 4) and flags & 1:
        text += "[more]"
        flags &= ~1
    if flags:
        text += f"[***unknown flags 0x{flags:04x}***]"
    return text


def _chomp(s: str, c: str) -> str:
    return s[:-1] if s.endswith(c) else s


def _newline(s: str) -> str:
    return s if not s or s.endswith("\n") else s + "\n"


def ofp_to_string(data: bytes, verbosity: int = 1,
                  port_names: Mapping[int, str] | None = None,
                  table_names: Mapping[int, str] | None = None) -> str:
    """What ``ovs-ofctl ofp-print`` prints for ``data`` at ``verbosity``."""
    n = len(data)
    if not n:
        return "OpenFlow message is empty\n"
    if n < 8:
        return f"OpenFlow packet too short (only {n} bytes):\n" + hex_dump(data)
    length = int.from_bytes(data[2:4], "big")
    if length > n:
        text = ""
        try:
            key, _ = decode_hdrs(data)
            raw = lookup(key)
            text = _header_line(raw.human_name, data[0],
                                int.from_bytes(data[4:8], "big")) + "\n"
        except OFError:
            pass
        return text + f"(***truncated to {n} bytes from {length}***)\n" + hex_dump(data)
    if length < n:
        return f"(***only uses {length} bytes out of {n}***)\n" + hex_dump(data)
    try:
        header = decode_header(data)
    except OFError as e:
        return _newline(f"***decode error: {e.name}***\n") + hex_dump(data)
    raw = header.raw
    text = _header_line(raw.human_name, header.version, header.xid)
    header_len = len(text)
    error: OFError | None = None
    if raw.is_stats:
        text += _stats_flags(data, header.version, raw.is_request)
    codec = codecs().get(raw.name)
    if codec is not None and codec.format is not None:
        ctx = FormatContext(header.version, raw, header.xid, verbosity, port_names,
                            table_names)
        try:
            msg = decode_body(header, memoryview(data))
            text += codec.format(msg.body, ctx)
        except OFError as e:
            error = e
            if codec.partial is not None:
                # Lists of entries: OVS prints those before the bad one.
                body, _ = codec.partial(header.version, raw,
                                        memoryview(data)[header.header_len:])
                ctx.extra["partial"] = True
                text += codec.format(body, ctx)
    if error is not None:
        if len(text) > header_len:
            text = _newline(_chomp(text, " "))
        else:
            text += " "
        text += f"***decode error: {error.name}***\n"
    else:
        text = _chomp(text, " ")
    if verbosity >= 5 or error is not None:
        text = _newline(text) + hex_dump(data)
    return _newline(text)


__all__ = ["headers_len", "ofp_to_string"]
