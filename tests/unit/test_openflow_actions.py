"""Actions and instructions: text both ways, wire both ways, errors, fuzzing.

``action_text.json`` holds, for each action string, what the real ovs-ofctl
3.1 prints after encoding it for OpenFlow 1.0, 1.3 and 1.5 and decoding it
again (``ovs-ofctl -O ... parse-flow``); pyovs must print the same after the
same round trip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyovs.openflow.act_check import check_actions
from pyovs.openflow.act_text import format_actions, parse_actions
from pyovs.openflow.actions import (
    DecTtl,
    FmtCtx,
    Output,
    ParseCtx,
    Resubmit,
    SetField,
    decode_actions,
    decode_instructions,
    encode_actions,
    encode_instructions,
)
from pyovs.openflow.errors import OFError, OFPErr, ParseError
from pyovs.openflow.fields import field
from pyovs.openflow.match_text import parse_match
from pyovs.openflow.protocols import OF10_ANY

CORPUS = Path(__file__).resolve().parents[1] / "interop" / "openflow_corpus"
ROWS: list[dict[str, Any]] = json.loads((CORPUS / "action_text.json").read_text())
CASES = [(row["actions"], version, row[str(version)])
         for row in ROWS for version in (1, 4, 6) if row[str(version)] is not None]


@pytest.mark.parametrize(("text", "version", "printed"), CASES,
                         ids=[f"{c[0]}@{c[1]}" for c in CASES])
def test_wire_round_trip_prints_like_ovs(text: str, version: int, printed: str) -> None:
    match_text = "ipv6,tcp6" if "fe80" in text else "ip,tcp"
    match, _ = parse_match(match_text)
    actions = check_actions(parse_actions(text), match)
    wire = encode_instructions(actions, version)
    decoded = decode_instructions(wire, version)
    assert format_actions(decoded) == printed
    assert encode_instructions(decoded, version) == wire


@pytest.mark.parametrize(("text", "printed"), [
    ("output:1,NORMAL", "output:1,NORMAL"),
    ("drop", "drop"),
    ("", "drop"),
    ("set_field:5->reg0", "set_field:0x5->reg0"),
    ("load:5->reg0[0..3]", "load:0x5->NXM_NX_REG0[0..3]"),
    ("resubmit(,3)", "resubmit(,3)"),
    ("mod_vlan_vid:5", "mod_vlan_vid:5"),
    ("ct(commit,zone=NXM_NX_REG0[0..15],exec(set_field:1->ct_mark))",
     "ct(commit,zone=NXM_NX_REG0[0..15],exec(set_field:0x1->ct_mark))"),
    ("2", "output:2"),
])
def test_text_round_trip(text: str, printed: str) -> None:
    assert format_actions(parse_actions(text)) == printed


@pytest.mark.parametrize(("text", "error"), [
    ("bogus", "unknown action bogus"),
    ("drop,output:1", '"drop" must not be accompanied by any other action or instruction'),
    ("mod_vlan_vid:5000", "5000: not a valid VLAN VID"),
    ("set_field:1->nw_proto", "nw_proto is read-only"),
    ("set_field:1->bogus", "bogus is not a valid OXM field name"),
    ("load:0x1f->reg0[0..3]", "0x1f->reg0[0..3]: value 0x1f does not fit into 4 bits"),
    ("move:reg0[]->reg1[0..3]", "reg0[]->reg1[0..3]: source field is 32 bits wide but "
                                "destination is 4 bits wide"),
    ("resubmit(,)", 'at least one "in_port" or "table" must be specified on resubmit'),
    ("output:bogus", "bogus: output to unknown port"),
    ("ct(force)", '"force" flag requires "commit" flag.'),
    ("controller(reason=bogus)", 'unknown reason "bogus"'),
    ("goto_table:1,output:2", "invalid instruction ordering: apply_actions must appear before "
                              "goto_table, for OpenFlow 1.1+ compatibility"),
])
def test_parse_errors(text: str, error: str) -> None:
    with pytest.raises(ParseError) as exc:
        parse_actions(text)
    assert str(exc.value) == error


def test_usable_protocols_narrow() -> None:
    ctx = ParseCtx()
    parse_actions("push_vlan:0x8100", ctx)
    assert not ctx.usable & OF10_ANY


def test_raw_forms_survive_round_trip() -> None:
    load = parse_actions("load:0x5->NXM_NX_REG0[]")
    assert isinstance(load[0], SetField) and load[0].raw == "NXAST_REG_LOAD"
    for version in (1, 4):
        assert decode_actions(encode_actions(load, version), version) == load
    ttl = parse_actions("dec_ttl(1,2)")
    assert ttl == (DecTtl((1, 2), "NXAST_DEC_TTL_CNT_IDS"),)


def test_check_actions_uses_the_match() -> None:
    match, _ = parse_match("udp")
    acts = check_actions(parse_actions("mod_tp_dst:53"), match)
    wire = encode_actions(acts, 4)
    assert format_actions(decode_actions(wire, 4)) == "set_field:53->udp_dst"


def test_port_names_in_output() -> None:
    assert format_actions((Output(5),), FmtCtx(port_names={5: "eth0"})) == "output:eth0"
    assert format_actions((Resubmit(5, 255, False, "NXAST_RESUBMIT"),),
                          FmtCtx(port_names={5: "p 1"})) == 'resubmit:"p 1"'


@pytest.mark.parametrize(("data", "error"), [
    (b"\x00\x00\x00\x08\x00\x01", OFPErr.OFPBRC_BAD_LEN),
    (b"\x00\x00\x00\x08\x00\x01\x00\x00", OFPErr.OFPBAC_BAD_LEN),  # OF1.3 output is 16
    (b"\x00\x63\x00\x08\x00\x00\x00\x00", OFPErr.OFPBAC_BAD_TYPE),
    (b"\xff\xff\x00\x10\x00\x00\x12\x34" + bytes(8), OFPErr.OFPBAC_BAD_VENDOR),
    (b"\xff\xff\x00\x10\x00\x00\x23\x20\x00\xfe" + bytes(6), OFPErr.OFPBAC_BAD_VENDOR_TYPE),
    (b"\x00\x00\x00\x18" + bytes(20), OFPErr.OFPBAC_BAD_LEN),
    (b"\x00\x00\x00\x10\x00\x01\x00\x00" + bytes(8), OFPErr.OFPBAC_BAD_OUT_PORT),
])
def test_decode_errors(data: bytes, error: OFPErr) -> None:
    with pytest.raises(OFError) as exc:
        decode_actions(data, 4)
    assert exc.value.error is error


def test_instruction_errors() -> None:
    goto = b"\x00\x01\x00\x08\x01\x00\x00\x00"
    with pytest.raises(OFError) as exc:
        decode_instructions(goto + goto, 4)
    assert exc.value.error is OFPErr.OFPBIC_DUP_INST
    with pytest.raises(OFError) as exc:
        decode_instructions(b"\x00\x09\x00\x08" + bytes(4), 4)
    assert exc.value.error is OFPErr.OFPBIC_UNKNOWN_INST
    with pytest.raises(OFError) as exc:
        decode_instructions(b"\x00\x01\x00\x10" + bytes(12), 4)
    assert exc.value.error is OFPErr.OFPBIC_BAD_LEN


def test_set_field_encodings_by_version() -> None:
    sf = (SetField(field("ip_src"), 0x0A000001, 0xFFFFFFFF),)
    assert encode_actions(sf, 1).hex() == "000600080a000001"  # OFPAT_SET_NW_SRC
    assert encode_actions(sf, 4).hex() == "00190010800016040a00000100000000"
    masked = (SetField(field("reg0"), 1, 1),)
    assert encode_actions(masked, 4)[:10].hex() == "ffff0018000023200007"  # reg_load


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=96), st.sampled_from([1, 4, 6]))
def test_fuzzed_actions_raise_only_oferror(data: bytes, version: int) -> None:
    for decode in (decode_actions, decode_instructions):
        try:
            acts = decode(data, version)
        except OFError:
            continue
        format_actions(acts)
        encode_instructions(acts, version)
