"""Asynchronous-message configuration: which events a controller hears about.

For each kind of asynchronous message (packet-in, port status, flow removed,
role status, table status, request-forward) a controller holds two bitmaps
of reasons: one used while it is primary (master/equal), one while
secondary (slave).  OpenFlow 1.3 and the Nicira extension carry the first
three kinds as a fixed struct of six masks; OpenFlow 1.4 carries any of them
as 32-bit properties, numbered (kind * 2) for secondary and (kind * 2 + 1)
for primary.

``AsyncConfig`` keeps what was on the wire (the six masks, or the properties
in order) so it re-encodes exactly; ``settings`` gives OVS's reading of it
(``ofputil_decode_set_async_config``): bits a version does not define are
dropped, or refused with ``OFPACFC_INVALID`` in a set request; unknown
properties are ignored in replies and refused (``OFPACFC_UNSUPPORTED``) in
requests.  The text is OVS's ``ofputil_format_set_async_config``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .codec import Body, FormatContext, MsgCodec
from .errors import OFError, OFPErr
from .msgtable import Raw
from .props import parse_u32, pull_props, put_u32

ASYNC_CONFIG: Final = struct.Struct("!6I")
"""packet_in_mask[primary, secondary], port_status_mask[2], flow_removed_mask[2]."""

KINDS: Final = ("PACKET_IN", "PORT_STATUS", "FLOW_REMOVED", "ROLE_STATUS", "TABLE_STATUS",
                "REQUESTFORWARD")
# Reasons each kind may have, before and from OpenFlow 1.4 (OVS async_props).
ALLOWED_10: Final = (0b111, 0b111, 0b111111, 0b111, 0b11000, 0b11)
ALLOWED_14: Final = (0b111111, 0b111, 0b111111, 0b111, 0b11000, 0b11)
REASON_NAMES: Final = (
    ("no_match", "action", "invalid_ttl", "action_set", "group", "packet_out", "", ""),
    ("add", "delete", "modify"),
    ("idle", "hard", "delete", "group_delete", "meter_delete", "eviction"),
    ("master_request", "configuration_changed", "experimenter_data_changed"),
    ("0", "1", "2", "vacancy_down", "vacancy_up"),
    ("group_mod_request", "meter_mod_request"),
)
PACKET_IN, EXPLICIT_MISS, IMPLICIT_MISS = 0, 6, 7

Masks = tuple[int, int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class AsyncConfig(Body):
    """OFPT_SET_ASYNC / OFPT_GET_ASYNC_REPLY / NXT_SET_ASYNC_CONFIG(2), as sent."""

    masks: Masks = (0, 0, 0, 0, 0, 0)
    """The struct form: packet_in, port_status, flow_removed masks, primary then secondary."""
    properties: tuple[tuple[int, int], ...] = ()
    """The OpenFlow 1.4 form: (property type, mask) in wire order."""

    @classmethod
    def from_settings(cls, primary: Masks, secondary: Masks, version: int) -> AsyncConfig:
        """A config for ``version``'s wire form (OVS ``ofputil_encode_set_async_config``)."""
        if version < 5:
            return cls((primary[0], secondary[0], primary[1], secondary[1], primary[2],
                        secondary[2]))
        props = []
        for kind in range(len(KINDS)):
            allowed = ALLOWED_14[kind]
            props += [(2 * kind, secondary[kind] & allowed),
                      (2 * kind + 1, primary[kind] & allowed)]
        return cls(properties=tuple(props))

    def settings(self, version: int, struct_form: bool, loose: bool = True
                 ) -> tuple[Masks, Masks]:
        """(primary, secondary) reason bitmaps as OVS reads them."""
        primary, secondary = [0] * 6, [0] * 6
        if struct_form:
            for kind in range(3):
                for is_primary, target in ((True, primary), (False, secondary)):
                    mask = self.masks[2 * kind + (0 if is_primary else 1)]
                    target[kind] = _checked(kind, mask, version, True)
        else:
            for prop_type, mask in self.properties:
                kind, role = divmod(prop_type, 2)
                (primary if role else secondary)[kind] = _checked(kind, mask, version, loose)
        return _six(primary), _six(secondary)


def _six(values: list[int]) -> Masks:
    return values[0], values[1], values[2], values[3], values[4], values[5]


def _checked(kind: int, mask: int, version: int, loose: bool) -> int:
    """OVS ``decode_async_mask``."""
    allowed = (ALLOWED_14 if version >= 5 else ALLOWED_10)[kind]
    if mask & ~allowed:
        if not loose:
            raise OFError(OFPErr.OFPACFC_INVALID, f"bad {KINDS[kind]} mask {mask:#x}")
        mask &= allowed
    if kind == PACKET_IN and mask & 1:
        mask |= 1 << EXPLICIT_MISS
        if version < 4:
            mask |= 1 << IMPLICIT_MISS
    return mask


def _is_struct(raw: Raw) -> bool:
    return raw.min_body == ASYNC_CONFIG.size


def _decode(version: int, raw: Raw, b: memoryview) -> Body:
    if _is_struct(raw):
        return AsyncConfig(ASYNC_CONFIG.unpack_from(b))
    loose = raw.name.endswith("_REPLY")
    props = []
    for prop_type, payload in pull_props(b, 8, 0xFFFE):
        if prop_type < 2 * len(KINDS):
            mask = parse_u32(payload)
            _checked(prop_type // 2, mask, version, loose)  # refuses bad bits in a request
            props.append((prop_type, mask))
        elif not loose:
            if prop_type > 0xFFFF:
                raise OFError(OFPErr.OFPBPC_BAD_EXP_TYPE, f"async property {prop_type:#x}")
            raise OFError(OFPErr.OFPACFC_UNSUPPORTED, f"async property {prop_type}")
    return AsyncConfig(properties=tuple(props))


def _encode(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, AsyncConfig)
    if _is_struct(raw):
        return ASYNC_CONFIG.pack(*body.masks)
    return b"".join(put_u32(prop_type, mask) for prop_type, mask in body.properties)


def format_async(primary: Masks, secondary: Masks) -> str:
    """OVS ``ofputil_format_set_async_config``."""
    text = ""
    for title, masks in (("primary", primary), ("secondary", secondary)):
        text += f"\n {title}:\n"
        for kind, name in enumerate(KINDS):
            text += f"{name:>16}:"
            mask = masks[kind]
            names = REASON_NAMES[kind]
            for bit in range(32):
                if mask >> bit & 1:
                    reason = names[bit] if bit < len(names) else str(bit)
                    if reason:
                        text += " " + reason
            text += (" (off)" if not mask else "") + "\n"
    return text


def _format(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, AsyncConfig)
    loose = ctx.raw.name.endswith("_REPLY")
    return format_async(*body.settings(ctx.version, _is_struct(ctx.raw), loose))


_CODEC: Final = MsgCodec(_decode, _encode, _format)
CODECS: Final[dict[str, MsgCodec]] = {
    name: _CODEC for name in ("OFPT13_GET_ASYNC_REPLY", "OFPT14_GET_ASYNC_REPLY",
                              "OFPT13_SET_ASYNC", "OFPT14_SET_ASYNC", "NXT_SET_ASYNC_CONFIG",
                              "NXT_SET_ASYNC_CONFIG2")
}
DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    AsyncConfig: lambda v: "OFPT13_SET_ASYNC" if v == 4 else (
        "OFPT14_SET_ASYNC" if v >= 5 else "NXT_SET_ASYNC_CONFIG"),
}
