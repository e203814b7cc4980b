"""Structured Nicira actions: bundle, multipath, sample, clone, delete_field.

``bundle``/``bundle_load`` pick one member port (``lib/bundle.c``),
``multipath`` stores a link number in a subfield (``lib/multipath.c``),
``sample`` has three encodings chosen as OVS does (plain, with sampling
port, with direction), ``clone`` nests actions like ``ct(exec(...))``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from .act_wire import (
    atoi,
    check_subfield,
    decode_ofs_nbits,
    encode_ofs_nbits,
    field_from_nxm32,
    header_bytes,
    nxm32,
    pull_header,
    str_to_u16,
    str_to_u32,
    strtok,
    zeros,
)
from .action_table import put_raw
from .actions import (
    Action,
    Bundle,
    Clone,
    DeleteField,
    FmtCtx,
    Multipath,
    ParseCtx,
    Sample,
    encode_actions,
)
from .ctext import parse_key_value
from .errors import OFError, OFPErr, ParseError
from .fields import FIELD_BY_NAME, field
from .ports import OFPP_CONTROLLER, OFPP_NONE, check_output_port, format_port, parse_port
from .subfield import Subfield, format_subfield, parse_subfield

HASH_FIELDS: Final = ("eth_src", "symmetric_l4", "symmetric_l3l4", "symmetric_l3l4+udp",
                      "nw_src", "nw_dst", "symmetric_l3")
MP_ALGORITHMS: Final = ("modulo_n", "hash_threshold", "hrw", "iter_hash")
BD_ALGORITHMS: Final = ("active_backup", "hrw")
BUNDLE_MAX_MEMBERS: Final = 2048
BUNDLE: Final = struct.Struct("!HHHIHHI4x")
"""algorithm, fields, basis, member_type, n_members, ofs_nbits, dst (after NX header)."""
MULTIPATH: Final = struct.Struct("!HH2xHHI2xHI")
"""fields, basis, pad, algorithm, max_link, arg, pad, ofs_nbits, dst."""
SAMPLE: Final = struct.Struct("!HIII")
SAMPLE2: Final = struct.Struct("!HIIIHB5x")


def _hash_fields_name(fields: int) -> str:
    return HASH_FIELDS[fields] if fields < len(HASH_FIELDS) else "<unknown>"


# --- bundle ------------------------------------------------------------------------------

def _dec_bundle(load: bool) -> Callable[[int, memoryview, int], list[Action]]:
    def dec(v: int, b: memoryview, arg: int) -> list[Action]:
        algorithm, fields, basis, member_type, n, ofs_nbits, dst = BUNDLE.unpack_from(b, 10)
        err = None
        if (fields >= len(HASH_FIELDS) or n > BUNDLE_MAX_MEMBERS
                or algorithm not in (0, 1) or member_type != nxm32(field("in_port"))):
            err = OFPErr.OFPBAC_BAD_ARGUMENT
        if not zeros(b[28:32]):
            err = OFPErr.OFPBAC_BAD_ARGUMENT
        dst_sf = None
        if load:
            ofs, n_bits = decode_ofs_nbits(ofs_nbits)
            dst_sf = Subfield(field_from_nxm32(dst), ofs, n_bits)
            err = None  # (sic) OVS overwrites the verdict so far here
            if n_bits < 16:
                err = OFPErr.OFPBAC_BAD_ARGUMENT
        elif ofs_nbits or dst:
            err = OFPErr.OFPBAC_BAD_ARGUMENT
        if len(b) - 32 < 2 * n:
            raise OFError(OFPErr.OFPBAC_BAD_LEN, "bundle members")
        members = struct.unpack_from(f"!{n}H", b, 32)
        if err is not None:
            raise OFError(err, "bad bundle action")
        if dst_sf is not None:
            check_subfield(dst_sf, dst=True)
        for member in members:  # OVS bundle_check
            if member != OFPP_NONE:
                check_output_port(member)
            if member == OFPP_CONTROLLER:
                raise OFError(OFPErr.OFPBAC_BAD_OUT_PORT, "controller bundle member")
        return [Bundle(algorithm, fields, basis, members, dst_sf)]
    return dec


def _enc_bundle(a: Action, v: int) -> bytes:
    assert isinstance(a, Bundle)
    out = put_raw("NXAST_BUNDLE_LOAD" if a.dst else "NXAST_BUNDLE", v)
    ofs_nbits = encode_ofs_nbits(a.dst.ofs, a.dst.n_bits) if a.dst else 0
    dst = nxm32(a.dst.field) if a.dst else 0
    BUNDLE.pack_into(out, 10, a.algorithm, a.fields, a.basis, nxm32(field("in_port")),
                     len(a.members), ofs_nbits, dst)
    members = struct.pack(f"!{len(a.members)}H", *a.members)
    out += members + bytes(-len(members) % 8)
    struct.pack_into("!H", out, 2, len(out))
    return bytes(out)


def _fmt_bundle(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Bundle)
    algorithm = BD_ALGORITHMS[a.algorithm] if a.algorithm < 2 else "<unknown>"
    text = (f"{'bundle_load' if a.dst else 'bundle'}({_hash_fields_name(a.fields)},"
            f"{a.basis},{algorithm},ofport,")
    if a.dst:
        text += format_subfield(a.dst) + ","
    return text + "members:" + ",".join(format_port(p, ctx.port_names) for p in a.members) + ")"


def _parse_bundle(load: bool) -> Callable[[str, ParseCtx], list[Action]]:
    def parse(s: str, ctx: ParseCtx) -> list[Action]:
        # strtok_r with ", " for the fixed arguments, then ": " for the
        # member delimiter, then ", []" for the members, as lib/bundle.c.
        tokens: list[str] = []
        rest = s
        n_fixed = 5 if load else 4
        for _ in range(n_fixed):
            tok, rest = _strtok_next(rest, ", ")
            tokens.append(tok)
        delim, rest = _strtok_next(rest, ": ")
        if not delim:
            raise ParseError(f"{s}: not enough arguments to bundle action")
        if delim.lower() not in ("members", "slaves"):
            raise ParseError(f"{s}: missing member delimiter, expected `members', "
                             f"got `{delim}'")
        members: list[int] = []
        for tok in strtok(rest, ", []"):
            if len(members) >= BUNDLE_MAX_MEMBERS:
                break
            port = parse_port(tok, ctx.port_map)
            if port is None:
                raise ParseError(f"{tok}: bad port number")
            members.append(port)
        fields_s, basis_s, algorithm_s, member_type = tokens[:4]
        fields = [f.lower() for f in HASH_FIELDS].index(fields_s.lower()) \
            if fields_s.lower() in HASH_FIELDS else -1
        if fields < 0:
            raise ParseError(f"{s}: unknown fields `{fields_s}'")
        if algorithm_s.lower() not in BD_ALGORITHMS:
            raise ParseError(f"{s}: unknown algorithm `{algorithm_s}'")
        if member_type.lower() != "ofport":
            raise ParseError(f"{s}: unknown member_type `{member_type}'")
        dst = None
        if load:
            dst = parse_subfield(tokens[4])
            if not nxm32(dst.field):
                raise ParseError(f"{s}: experimenter OXM field '{tokens[4]}' not supported")
        return [Bundle(BD_ALGORITHMS.index(algorithm_s.lower()), fields,
                       atoi(basis_s) & 0xFFFF, tuple(members), dst)]
    return parse


def _strtok_next(s: str, delims: str) -> tuple[str, str]:
    """One ``strtok_r`` step: (token or "", rest after the delimiter)."""
    i = 0
    while i < len(s) and s[i] in delims:
        i += 1
    j = i
    while j < len(s) and s[j] not in delims:
        j += 1
    return s[i:j], s[j + 1:] if j < len(s) else ""


# --- multipath ---------------------------------------------------------------------------

def _dec_multipath(v: int, b: memoryview, arg: int) -> list[Action]:
    fields, basis, algorithm, max_link, mp_arg, ofs_nbits, dst = MULTIPATH.unpack_from(b, 10)
    ofs, n_bits = decode_ofs_nbits(ofs_nbits)
    sf = Subfield(field_from_nxm32(dst), ofs, n_bits)
    n_links = max_link + 1
    if (fields >= len(HASH_FIELDS) or algorithm > 3
            or n_bits < (n_links - 1).bit_length()):
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "bad multipath action")
    check_subfield(sf, dst=True)
    return [Multipath(fields, basis, algorithm, max_link, mp_arg, sf)]


def _enc_multipath(a: Action, v: int) -> bytes:
    assert isinstance(a, Multipath)
    out = put_raw("NXAST_MULTIPATH", v)
    MULTIPATH.pack_into(out, 10, a.fields, a.basis, a.algorithm, a.max_link, a.arg,
                        encode_ofs_nbits(a.dst.ofs, a.dst.n_bits), nxm32(a.dst.field))
    return bytes(out)


def _fmt_multipath(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Multipath)
    algorithm = MP_ALGORITHMS[a.algorithm] if a.algorithm < 4 else "<unknown>"
    return (f"multipath({_hash_fields_name(a.fields)},{a.basis},{algorithm},"
            f"{a.max_link + 1},{a.arg},{format_subfield(a.dst)})")


def _parse_multipath(s: str, ctx: ParseCtx) -> list[Action]:
    tokens = []
    rest = s
    for _ in range(6):
        tok, rest = _strtok_next(rest, ", ")
        tokens.append(tok)
    if not tokens[5]:
        raise ParseError(f"{s}: not enough arguments to multipath action")
    fields_s, basis, algorithm_s, n_links_s, arg_s, dst_s = tokens
    if fields_s.lower() not in HASH_FIELDS:
        raise ParseError(f"{s}: unknown fields `{fields_s}'")
    if algorithm_s.lower() not in MP_ALGORITHMS:
        raise ParseError(f"{s}: unknown algorithm `{algorithm_s}'")
    n_links = atoi(n_links_s)
    if not 1 <= n_links <= 65536:
        raise ParseError(f"{s}: n_links {n_links} is not in valid range 1 to 65536")
    dst = parse_subfield(dst_s)
    if not nxm32(dst.field):
        raise ParseError(f"{s}: experimenter OXM field '{dst_s}' not supported")
    if dst.n_bits < 16 and n_links > 1 << dst.n_bits:
        raise ParseError(f"{s}: {dst.n_bits}-bit destination field has {1 << dst.n_bits} "
                         f"possible values, less than specified n_links {n_links}")
    return [Multipath(HASH_FIELDS.index(fields_s.lower()), atoi(basis) & 0xFFFF,
                      MP_ALGORITHMS.index(algorithm_s.lower()), n_links - 1,
                      atoi(arg_s) & 0xFFFFFFFF, dst)]


# --- sample ----------------------------------------------------------------------------------

def _dec_sample(v: int, b: memoryview, arg: int) -> list[Action]:
    probability, collector, domain, point = SAMPLE.unpack_from(b, 10)
    if not probability:
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "sample probability 0")
    return [Sample(probability, collector, domain, point, OFPP_NONE, 0, "NXAST_SAMPLE")]


def _dec_sample2(raw: str) -> Callable[[int, memoryview, int], list[Action]]:
    def dec(v: int, b: memoryview, arg: int) -> list[Action]:
        probability, collector, domain, point, port, direction = SAMPLE2.unpack_from(b, 10)
        if raw == "NXAST_SAMPLE3":
            if not zeros(b[27:32]):
                raise OFError(OFPErr.NXBRC_MUST_BE_ZERO, "sample3 padding")
            if direction > 2:
                raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "sample direction")
        else:
            direction = 0
        if not probability:
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "sample probability 0")
        return [Sample(probability, collector, domain, point, port, direction, raw)]
    return dec


def _enc_sample(a: Action, v: int) -> bytes:
    assert isinstance(a, Sample)
    if a.raw == "NXAST_SAMPLE3" or a.direction:
        out = put_raw("NXAST_SAMPLE3", v)
    elif a.raw == "NXAST_SAMPLE2" or a.sampling_port != OFPP_NONE:
        out = put_raw("NXAST_SAMPLE2", v)
    else:
        out = put_raw("NXAST_SAMPLE", v)
        SAMPLE.pack_into(out, 10, a.probability, a.collector_set_id, a.obs_domain_id,
                         a.obs_point_id)
        return bytes(out)
    SAMPLE2.pack_into(out, 10, a.probability, a.collector_set_id, a.obs_domain_id,
                      a.obs_point_id, a.sampling_port, a.direction)
    return bytes(out)


def _fmt_sample(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Sample)
    text = (f"sample(probability={a.probability},collector_set_id={a.collector_set_id},"
            f"obs_domain_id={a.obs_domain_id},obs_point_id={a.obs_point_id}")
    if a.sampling_port != OFPP_NONE:
        text += ",sampling_port=" + format_port(a.sampling_port, ctx.port_names)
    if a.direction == 1:
        text += ",ingress"
    elif a.direction == 2:
        text += ",egress"
    return text + ")"


def _parse_sample(s: str, ctx: ParseCtx) -> list[Action]:
    probability = collector = domain = point = direction = 0
    port = OFPP_NONE
    pos = 0
    while (item := parse_key_value(s, pos)) is not None:
        key, value, pos = item
        if key == "probability":
            probability = str_to_u16(value, "probability")
            if not probability:
                raise ParseError(f'invalid probability value "{value}"')
        elif key == "collector_set_id":
            collector = str_to_u32(value)
        elif key == "obs_domain_id":
            domain = str_to_u32(value)
        elif key == "obs_point_id":
            point = str_to_u32(value)
        elif key == "sampling_port":
            parsed = parse_port(value, ctx.port_map)
            if parsed is None:
                raise ParseError(f"{value}: unknown port")
            port = parsed
        elif key == "ingress":
            direction = 1
        elif key == "egress":
            direction = 2
        else:
            raise ParseError(f'invalid key "{key}" in "sample" argument')
    if not probability:
        raise ParseError('non-zero "probability" must be specified on sample')
    return [Sample(probability, collector, domain, point, port, direction)]


# --- clone, delete_field ------------------------------------------------------------------------

def _dec_clone(v: int, b: memoryview, arg: int) -> list[Action]:
    from .actions import pull_actions
    return [Clone(pull_actions(b[16:], v, "clone"))]


def _enc_clone(a: Action, v: int) -> bytes:
    assert isinstance(a, Clone)
    out = put_raw("NXAST_CLONE", v) + encode_actions(a.actions, v)
    struct.pack_into("!H", out, 2, len(out))
    return bytes(out)


def _fmt_clone(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Clone)
    from .act_text import format_actions
    return f"clone({format_actions(a.actions, ctx)})"


def _parse_clone(s: str, ctx: ParseCtx) -> list[Action]:
    from .act_text import parse_actions_nested
    return [Clone(parse_actions_nested(s, ctx, "clone"))]


def _dec_delete_field(v: int, b: memoryview, arg: int) -> list[Action]:
    # OVS checks nothing else here: padding is ignored, and the field (which
    # must be a tunnel TLV) is checked with the flow (act_check).
    f, _, _, _ = pull_header(b, 10, len(b), exact=True)
    return [DeleteField(f)]


def _enc_delete_field(a: Action, v: int) -> bytes:
    assert isinstance(a, DeleteField)
    out = put_raw("NXAST_DELETE_FIELD", v)
    hdr = header_bytes(a.field, 0, False, a.field.n_bytes)
    out[10:10 + len(hdr)] = hdr
    return bytes(out)


def _fmt_delete_field(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, DeleteField)
    return f"delete_field:{a.field.name}"


def _parse_delete_field(s: str, ctx: ParseCtx) -> list[Action]:
    f = FIELD_BY_NAME.get(s)
    if f is None:
        raise ParseError(f"{s} is not a valid OXM field name")
    if not f.name.startswith("tun_metadata"):
        raise ParseError(f"{s} is not a supported field for delete_field")
    return [DeleteField(f)]


DECODERS: Final[dict[str, Callable[[int, memoryview, int], list[Action]]]] = {
    "NXAST_BUNDLE": _dec_bundle(False),
    "NXAST_BUNDLE_LOAD": _dec_bundle(True),
    "NXAST_MULTIPATH": _dec_multipath,
    "NXAST_SAMPLE": _dec_sample,
    "NXAST_SAMPLE2": _dec_sample2("NXAST_SAMPLE2"),
    "NXAST_SAMPLE3": _dec_sample2("NXAST_SAMPLE3"),
    "NXAST_CLONE": _dec_clone,
    "NXAST_DELETE_FIELD": _dec_delete_field,
}
ENCODERS: Final[dict[type, Callable[[Action, int], bytes]]] = {
    Bundle: _enc_bundle, Multipath: _enc_multipath, Sample: _enc_sample, Clone: _enc_clone,
    DeleteField: _enc_delete_field,
}
FORMATTERS: Final[dict[type, Callable[[Action, FmtCtx], str]]] = {
    Bundle: _fmt_bundle, Multipath: _fmt_multipath, Sample: _fmt_sample, Clone: _fmt_clone,
    DeleteField: _fmt_delete_field,
}
PARSERS: Final[dict[str, Callable[[str, ParseCtx], list[Action]]]] = {
    "bundle": _parse_bundle(False),
    "bundle_load": _parse_bundle(True),
    "multipath": _parse_multipath,
    "sample": _parse_sample,
    "clone": _parse_clone,
    "delete_field": _parse_delete_field,
}
