"""The pure parts of pyovs-ofctl's flow-table commands, without a switch.

Flow files (comments, blank lines, leading command words, ``file:line``
errors), ``--sort``/``--rsort`` order, the flow-table comparison behind
``diff-flows``/``replace-flows``, the option rules (``--bundle`` implies
OpenFlow 1.4, sorts end with priority, ``-t`` must be positive), name maps
and the bundle messages.  The texts expected are ovs-ofctl 3.1's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyovs.cli.cmdline import Fatal
from pyovs.cli.ofctl import parse_options
from pyovs.cli.ofctl_flow import (
    parse_flow_mod,
    preprocessed_lines,
    read_flow_mods,
    split_line_command,
    versions_from_protocols,
)
from pyovs.cli.ofctl_flowio import NameMap, vconn_name
from pyovs.cli.ofctl_fte import (
    FteTable,
    sort_criterion,
    sort_flows,
    version_from_flow_mod,
    version_from_stats,
)
from pyovs.openflow import codec
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.match_text import parse_match
from pyovs.openflow.msg_bundle import BundleAdd, BundleCtrl, BundleCtrlType, check_bundle_add
from pyovs.openflow.msg_flow import Command, FlowFlags, FlowMod
from pyovs.openflow.msg_flowstats import FlowStats
from pyovs.openflow.ofprint import ofp_to_string
from pyovs.openflow.protocols import OF13_UP, Protocol


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "flows.txt"
    path.write_text(text)
    return str(path)


# --- flow files ----------------------------------------------------------------------

@pytest.mark.parametrize(("line", "command", "rest"), [
    ("add in_port=1,actions=drop", Command.ADD, " in_port=1,actions=drop"),
    ("delete tcp", Command.DELETE, " tcp"),
    ("delete_strict priority=3", Command.DELETE_STRICT, " priority=3"),
    ("modify ip,actions=drop", Command.MODIFY, " ip,actions=drop"),
    ("mod ip,actions=drop", Command.MODIFY, " ip,actions=drop"),
    ("modify_s ip,actions=drop", Command.MODIFY_STRICT, " ip,actions=drop"),
    ("d tcp", Command.DELETE, " tcp"),
    ("  a,priority=1,actions=drop", Command.ADD, ",priority=1,actions=drop"),
    ("in_port=1,actions=drop", Command.ADD, "in_port=1,actions=drop"),
    ("addx in_port=1,actions=drop", Command.ADD, "addx in_port=1,actions=drop"),
    (",actions=drop", Command.ADD, ",actions=drop"),
])
def test_line_command_words_as_parse_ofp_str(line: str, command: int, rest: str) -> None:
    assert split_line_command(line) == (command, rest)


def test_preprocessed_lines_cut_comments_and_skip_blank_lines(tmp_path: Path) -> None:
    name = _write(tmp_path, "# head\n\nactions=drop # tail\n \t\npriority=2,actions=drop")
    assert preprocessed_lines(name) == [(3, "actions=drop "), (5, "priority=2,actions=drop")]


def test_flow_file_errors_name_file_and_line(tmp_path: Path) -> None:
    name = _write(tmp_path, "actions=drop\n\n# c\nin_port=1\n")
    with pytest.raises(Fatal) as e:
        read_flow_mods(name, Command.ADD)
    assert e.value.message == f"{name}:4: must specify an action"
    with pytest.raises(Fatal) as e:
        read_flow_mods(str(tmp_path / "none"), Command.ADD)
    assert e.value.message == f"{tmp_path}/none: open failed (No such file or directory)"


def test_add_files_mix_commands_and_narrow_protocols(tmp_path: Path) -> None:
    name = _write(tmp_path, "delete tcp\nmodify_strict priority=5,ip,actions=drop\n"
                  "reg0=1,actions=drop\n")
    fms, usable = read_flow_mods(name, None)
    assert [fm.command for fm in fms] == [Command.DELETE, Command.MODIFY_STRICT, Command.ADD]
    assert not usable & Protocol.OF10_STD  # reg0 needs NXM or OXM
    # With a fixed command, a command word is just an unknown field.
    with pytest.raises(Fatal):
        read_flow_mods(name, Command.ADD)


def test_names_are_accepted_from_the_maps() -> None:
    fm, _ = parse_flow_mod('in_port="p-2",table=mytab,actions=output:p1', Command.ADD,
                           {"p1": 1, "p-2": 2}, {"mytab": 1})
    assert fm.table_id == 1
    assert fm.match.get_field("in_port") == (2, 0xFFFF)
    with pytest.raises(Fatal, match="invalid or unknown port for in_port"):
        parse_flow_mod("in_port=p1,actions=drop", Command.ADD, None, None)


# --- name maps ---------------------------------------------------------------------------

def test_name_maps_drop_duplicates_both_ways() -> None:
    m = NameMap.of([(1, "a"), (2, "b"), (3, "b"), (4, "c"), (4, "d")])
    assert m.by_name == {"a": 1}
    assert m.by_number == {1: "a"}


def test_vconn_names() -> None:
    assert vconn_name("br0", "/run/br0.mgmt") == "unix:/run/br0.mgmt"
    assert vconn_name("tcp:1.2.3.4:6653", "") == "tcp:1.2.3.4:6653"


# --- --sort / --rsort ------------------------------------------------------------------

def _fs(text: str, priority: int = 32768) -> FlowStats:
    return FlowStats(match=parse_match(text)[0], priority=priority)


def test_sort_by_field_puts_flows_without_it_last_either_way() -> None:
    flows = [_fs("ip"), _fs("tcp,tp_dst=80"), _fs("tcp,tp_dst=22"), _fs("arp")]
    up = sort_flows(flows, [sort_criterion("tcp_dst", False), sort_criterion(None, True)])
    down = sort_flows(flows, [sort_criterion("tp_dst", True), sort_criterion(None, True)])
    assert up == [flows[2], flows[1], flows[0], flows[3]]
    assert down == [flows[1], flows[2], flows[0], flows[3]]


def test_sort_by_priority_is_stable() -> None:
    flows = [_fs("ip", 5), _fs("arp", 7), _fs("tcp", 5), _fs("udp", 9)]
    assert sort_flows(flows, [sort_criterion("priority", False)]) == [
        flows[0], flows[2], flows[1], flows[3]]
    assert sort_flows(flows, [sort_criterion(None, True)]) == [
        flows[3], flows[1], flows[0], flows[2]]


def test_unknown_sort_field() -> None:
    with pytest.raises(Fatal, match=r"^nosuch: unknown field name$"):
        sort_criterion("nosuch", False)


# --- options -------------------------------------------------------------------------------

def test_bundle_implies_openflow14_only_without_13_up() -> None:
    opts, _ = parse_options("ovs-ofctl", ["--bundle", "add-flow"])
    assert opts.versions == versions_from_protocols(Protocol.OF14_OXM) == 1 << 5
    opts, _ = parse_options("ovs-ofctl", ["--bundle", "-O", "OpenFlow10,OpenFlow13", "x"])
    assert opts.versions == (1 << 1) | (1 << 4)
    assert versions_from_protocols(OF13_UP) == (1 << 4) | (1 << 5) | (1 << 6)
    with pytest.raises(Fatal, match=r"None of the enabled OpenFlow versions \(OpenFlow14\)"):
        parse_options("ovs-ofctl", ["--bundle", "-F", "OpenFlow10", "x"])


def test_sort_options_end_with_descending_priority() -> None:
    opts, _ = parse_options("ovs-ofctl", ["--sort=in_port", "--rsort", "dump-flows"])
    assert [(c.field.name if c.field else None, c.descending) for c in opts.sort] == [
        ("in_port", False), (None, True), (None, True)]


@pytest.mark.parametrize("value", ["0", "x", "-1", "5s"])
def test_bad_timeouts(value: str) -> None:
    with pytest.raises(Fatal, match=f"^value {value} on -t or --timeout is invalid$"):
        parse_options("ovs-ofctl", ["-t", value, "show"])


# --- diff-flows / replace-flows ------------------------------------------------------------

def _add(text: str) -> FlowMod:
    return parse_flow_mod(text)[0]


def _table(a: list[str], b: list[str]) -> FteTable:
    t = FteTable()
    for index, texts in enumerate((a, b)):
        for text in texts:
            fm = _add(text)
            t.insert(fm.match, fm.priority, version_from_flow_mod(fm), index)
    return t


def test_diff_in_classifier_order() -> None:
    t = _table(["priority=5,ip,actions=drop", "table=1,actions=drop",
                "priority=9,tcp,tp_dst=80,actions=output:1",
                "priority=9,tcp,tp_dst=81,actions=drop"],
               ["priority=5,ip,actions=drop", "priority=9,tcp,tp_dst=80,actions=output:2",
                "cookie=0x5,idle_timeout=3,priority=1,arp,actions=drop"])
    assert t.diff() == (
        "-priority=9,tcp,tp_dst=80 actions=output:1\n"
        "+priority=9,tcp,tp_dst=80 actions=output:2\n"
        "-priority=9,tcp,tp_dst=81 actions=drop\n"
        "+priority=1,arp cookie=0x5 idle_timeout=3 actions=drop\n"
        "-table=1  actions=drop\n")


def test_flags_do_not_make_a_difference() -> None:
    t = _table(["send_flow_rem,priority=5,actions=drop"], ["priority=5,actions=drop"])
    assert t.diff() == ""
    fm = _add("send_flow_rem,check_overlap,priority=5,actions=drop")
    assert version_from_flow_mod(fm).flags == FlowFlags.SEND_FLOW_REM


def test_replace_deletes_then_adds_per_table() -> None:
    t = FteTable()
    for index, texts in ((0, ["priority=5,ip,actions=drop", "priority=6,arp,actions=drop",
                              "table=1,priority=1,actions=drop"]),
                         (1, ["priority=5,ip,actions=drop", "priority=6,arp,actions=output:1",
                              "priority=7,tcp,actions=drop", "table=1,priority=2,actions=drop"])):
        for text in texts:
            fm = _add(text)
            version = (version_from_flow_mod(fm) if index == 0 else version_from_stats(
                FlowStats(fm.match, fm.priority, fm.actions,
                          fm.table_id if fm.table_id != 0xFF else 0)))
            t.insert(fm.match, fm.priority, version, index)
    mods = [(fm.command, fm.table_id, fm.priority) for fm in t.replace_mods(False)]
    assert mods == [(Command.DELETE_STRICT, 0, 7), (Command.ADD, 0, 6),
                    (Command.DELETE_STRICT, 1, 2), (Command.ADD, 1, 1)]
    assert len(t.replace_mods(True)) == 5
    assert t.replace_mods(False)[0].actions == ()


# --- bundle messages --------------------------------------------------------------------

def test_bundle_messages_round_trip_and_print() -> None:
    inner = codec.encode(codec.make(_add("priority=3,actions=drop"), 5, 7))
    add = codec.make(BundleAdd(0, 3, inner), 5, 7)
    data = codec.encode(add)
    assert codec.decode(data) == add
    assert ofp_to_string(data, 2) == (
        "OFPT_BUNDLE_ADD_MESSAGE (OF1.4) (xid=0x7):\n bundle_id=0 flags=atomic ordered\n"
        "OFPT_FLOW_MOD (OF1.4) (xid=0x7): ADD priority=3 actions=drop\n")
    ctrl = codec.make(BundleCtrl(1, BundleCtrlType.COMMIT_REPLY, 4), 4, 9)
    assert codec.encode(ctrl)[:2] == b"\x04\x04"  # ONF extension in OpenFlow 1.3
    assert ofp_to_string(codec.encode(ctrl), 2) == (
        "ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x9):\n bundle_id=0x1 type=COMMIT_REPLY flags=0x4\n")


def test_bundle_add_checks() -> None:
    inner = codec.encode(codec.make(_add("actions=drop"), 5, 7))
    with pytest.raises(OFError) as e:
        check_bundle_add(BundleAdd(0, 1, inner), 8)
    assert e.value.error == OFPErr.OFPBFC_MSG_BAD_XID
    assert check_bundle_add(BundleAdd(0, 1, inner), 7) == "FLOW_MOD"


def test_bundle_flags_keep_unknown_bits() -> None:
    assert ofp_to_string(bytes.fromhex("0521001000000000001b00be00008701"), 2) == (
        "OFPT_BUNDLE_CONTROL (OF1.4) (xid=0x0):\n"
        " bundle_id=0x1b00be type=OPEN_REQUEST flags=atomic 0x8700\n")
    assert ofp_to_string(bytes.fromhex("0521001000000000000000018f04001e"), 2).endswith(
        " bundle_id=0x1 type= flags=ordered 0x1c\n")
