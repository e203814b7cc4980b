"""The flow-text step of pyovs-ofctl: ``parse_ofp_str`` and the protocol choice."""

from __future__ import annotations

import pytest

from pyovs.cli.cmdline import Fatal
from pyovs.cli.ofctl_flow import (
    choose_protocol,
    parse_flow_mod,
    protocols_from_string,
    protocols_from_versions,
    protocols_to_string,
)
from pyovs.openflow.msg_flow import Command, FlowFlags
from pyovs.openflow.protocols import ANY, ANY_OXM, OF10_ANY, Protocol


def test_protocol_set_names_use_ovs_abbreviations() -> None:
    assert protocols_to_string(ANY) == "any"
    assert protocols_to_string(0) == "none"
    assert protocols_to_string(Protocol.OF10_NXM | Protocol.OF10_NXM_TID | ANY_OXM) == "NXM,OXM"
    assert protocols_to_string(Protocol.OF10_STD_TID | Protocol.OF13_OXM) == (
        "OpenFlow10+table_id,OXM-OpenFlow13")


def test_protocols_from_string_and_versions() -> None:
    assert protocols_from_string("nxm,OXM-OpenFlow13") == (
        Protocol.OF10_NXM | Protocol.OF10_NXM_TID | Protocol.OF13_OXM)
    with pytest.raises(Fatal, match="foo: unknown flow protocol"):
        protocols_from_string("foo")
    assert protocols_from_versions(1 << 1 | 1 << 4) == OF10_ANY | Protocol.OF13_OXM


def test_choose_lowest_usable_allowed() -> None:
    assert choose_protocol(ANY, OF10_ANY) is Protocol.OF10_STD
    assert choose_protocol(ANY_OXM, ANY) is Protocol.OF12_OXM
    with pytest.raises(Fatal, match="no usable protocol"):
        choose_protocol(ANY_OXM, OF10_ANY)


def test_parse_flow_mod_keywords() -> None:
    fm, usable = parse_flow_mod("table=2,priority=7,idle_timeout=5,hard_timeout=6,"
                                "cookie=0x10,send_flow_rem,ip,actions=drop")
    assert (fm.table_id, fm.priority, fm.idle_timeout, fm.hard_timeout, fm.new_cookie) == (
        2, 7, 5, 6, 0x10)
    assert fm.flags == FlowFlags.SEND_FLOW_REM and fm.actions == ()
    assert Protocol.OF10_STD not in usable and Protocol.OF10_STD_TID in usable


def test_parse_flow_mod_modify_and_delete_rules() -> None:
    fm, _ = parse_flow_mod("ip,actions=drop", Command.MODIFY)
    assert fm.new_cookie == 0
    fm, usable = parse_flow_mod("cookie=1/0xff,out_port=3", Command.DELETE)
    assert (fm.cookie, fm.cookie_mask, fm.out_port) == (1, 0xFF, 3)
    assert Protocol.OF10_STD not in usable
    with pytest.raises(Fatal, match="cannot set cookie"):
        parse_flow_mod("cookie=1", Command.DELETE)
    with pytest.raises(Fatal, match="flow additions cannot use a cookie mask"):
        parse_flow_mod("cookie=1/1,actions=drop")
    with pytest.raises(Fatal, match="must specify an action"):
        parse_flow_mod("ip")
