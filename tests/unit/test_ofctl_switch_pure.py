"""pyovs-ofctl's switch commands without root: the wire, the parsers, the help text.

The golden corpus (``tests/interop/openflow_corpus``) holds, for each
group, meter and switch command line it covers, every message the real
ovs-ofctl sent to the capture switch (``test_openflow_capture.FakeSwitch``,
written from the spec without pyovs code) and what ovs-ofctl printed.
pyovs-ofctl, run in-process against the same fake switch, must send the
same bytes -- hellos, name lookups, requests, barriers, xids and all --
and print the same text.  The group and meter text parsers, the mod-port
words, packet-out text and the help layout are checked directly.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pyovs.cli import ofctl
from pyovs.cli.cmdline import Fatal
from pyovs.cli.ofctl_monitor import eth_from_hex, packet_in_format, parse_packet_out
from pyovs.cli.ofctl_switch import mod_port_config
from pyovs.cli.ofctl_usage import _COMMAND_LINES, COMMAND_TABLE, list_commands, usage
from pyovs.openflow import codec
from pyovs.openflow.errors import ParseError
from pyovs.openflow.group_text import LINE_COMMAND, assign_bucket_ids, parse_group_mod
from pyovs.openflow.meter_text import METER_REQUEST, parse_meter_mod
from pyovs.openflow.msg_ctflush import CtFlush, encode_ct_flush, parse_ct_tuple
from pyovs.openflow.msg_group import GC_ADD, GC_DELETE, GC_INSERT_BUCKET, GC_REMOVE_BUCKET
from pyovs.openflow.msg_monitor import parse_flow_monitor_request
from pyovs.openflow.msg_stats import MC_ADD, MC_DELETE
from pyovs.openflow.protocols import OF10_ANY, OF13_UP, OF15_UP

INTEROP = Path(__file__).resolve().parents[1] / "interop"
sys.path.insert(0, str(INTEROP))

from test_openflow_capture import FakeSwitch  # noqa: E402

CORPUS = INTEROP / "openflow_corpus"


def _corpus_cases() -> list[Any]:
    names = set(ofctl.command_names())
    cases = []
    for part in ("groups", "meters", "switch"):
        for i, row in enumerate(json.loads((CORPUS / f"{part}.json").read_text())):
            args = row["command"][1:]
            command = next(a for a in args if not a.startswith("-") and "OpenFlow" not in a)
            if command in names:
                cases.append(pytest.param(row, id=f"{part}-{i}-{' '.join(args)[:60]}"))
    return cases


@pytest.mark.parametrize("row", _corpus_cases())
def test_sends_and_prints_what_ovs_ofctl_does(capsys: pytest.CaptureFixture[str],
                                              row: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sw.sock")
        sw = FakeSwitch(path)
        try:
            argv = ["ovs-ofctl", *(a.replace("TARGET", "unix:" + path)
                                   for a in row["command"][1:])]
            rc = ofctl.main(argv)
        finally:
            sw.close()
        out, err = capsys.readouterr()
    sent = [m.hex() for m in sw.received]
    assert sent == [m["hex"] for m in row["messages"]]
    assert (rc, out.replace("unix:" + path, "TARGET"), err.replace("unix:" + path, "TARGET")) \
        == (row["exit"], row["stdout"], row["stderr"])


# --- group text --------------------------------------------------------------------

@pytest.mark.parametrize(("text", "command", "error"), [
    ("", GC_ADD, "must specify a group_id"),
    ("group_id=1", GC_ADD, "must specify a type"),
    ("group_id=1,type=bogus", GC_ADD, "invalid group type bogus"),
    ("group_id=1,type=all,bucket=", GC_ADD, "bucket must specify actions"),
    ("group_id=1,type=ff,bucket=output:1", GC_ADD,
     "fast failover bucket requires watch_port or watch_group"),
    ("group_id=1,type=all,bucket=weight:5,output:1", GC_ADD,
     "Only select groups can have bucket weights."),
    ("group_id=1,type=indirect,bucket=output:1,bucket=output:2", GC_ADD,
     "Indirect groups can have at most one bucket."),
    ("group_id=1,bucket=output:1", GC_DELETE, "bucket is not needed"),
    ("group_id=1,type=all", GC_DELETE, "type is not needed"),
    ("group_id=1,bucket=output:1", GC_INSERT_BUCKET, "must specify a command bucket id"),
    ("group_id=1,command_bucket_id=all,bucket=output:1", GC_INSERT_BUCKET,
     "command_bucket_id=all is not permitted"),
    ("group_id=1,command_bucket_id=1", GC_ADD, "command bucket id is not needed"),
    ("group_id=4294967041,type=all", GC_ADD, "invalid group id 4294967041"),
    ("group_id=1,type=all,fields=ip_src", GC_ADD,
     'fields may only be specified with "selection_method=hash"'),
    ("group_id=1,type=all,selection_method_param=1", GC_ADD,
     'selection_method_param is only allowed with "selection_method"'),
    ("group_id=1,type=all,frobnicate=1", GC_ADD, "unknown keyword frobnicate"),
    ("group_id=x,type=all", GC_ADD, "invalid numeric format x"),
])
def test_group_text_errors(text: str, command: int, error: str) -> None:
    with pytest.raises(ParseError) as e:
        parse_group_mod(text, command)
    assert str(e.value) == error


def test_group_text_parses_buckets_and_protocols() -> None:
    gm, usable = parse_group_mod("group_id=7,type=select,bucket=weight:3,watch_port:2,"
                                 "output:1,bucket=actions=output:2", GC_ADD)
    assert (gm.group_id, gm.type, len(gm.buckets)) == (7, 1, 2)
    assert (gm.buckets[0].weight, gm.buckets[0].watch_port, gm.buckets[1].weight) == (3, 2, 1)
    gm, usable = parse_group_mod("group_id=1,command_bucket_id=first", GC_REMOVE_BUCKET)
    assert usable == OF10_ANY | OF15_UP
    # Bucket actions decide the protocols in OVS 3.1 (its action parser resets them).
    _, usable = parse_group_mod("group_id=1,command_bucket_id=1,bucket=output:1",
                                GC_INSERT_BUCKET)
    assert usable & OF13_UP
    gm, _ = parse_group_mod("delete group_id=3", LINE_COMMAND)
    assert (gm.command, gm.group_id) == (GC_DELETE, 3)
    gm, _ = parse_group_mod("", GC_DELETE)
    assert gm.group_id == 0xFFFFFFFC


def test_bucket_ids_are_assigned_as_ovs_does() -> None:
    gm, _ = parse_group_mod("group_id=1,type=all,bucket=output:1,bucket=bucket_id=0,output:2,"
                            "bucket=output:3", GC_ADD)
    assert [b.bucket_id for b in assign_bucket_ids(gm).buckets] == [1, 0, 2]


# --- meter text --------------------------------------------------------------------

@pytest.mark.parametrize(("text", "command", "error"), [
    ("meter=1,kbps", MC_ADD, "must specify bands"),
    ("meter=1,band=type=drop,rate=1", MC_ADD, "meter must specify either 'kbps' or 'pktps'"),
    ("kbps,band=type=drop,rate=1", MC_ADD, "must specify 'meter'"),
    ("meter=0,kbps,band=type=drop,rate=1", MC_ADD, "invalid value for meter"),
    ("meter=1,kbps,band=rate=1", MC_ADD, "band must start with the 'type' keyword"),
    ("meter=1,kbps,band=type=bogus", MC_ADD, "field type unknown value bogus"),
    ("meter=1,kbps,band=type=drop", MC_ADD, "band must have 'rate'"),
    ("meter=1,kbps,band=type=dscp_remark,rate=1", MC_ADD,
     "'dscp_remark' band must have 'prec_level'"),
    ("meter=1,kbps,band=type=drop,rate=1,prec_level=1", MC_ADD,
     "Only 'dscp_remark' band may have 'prec_level'"),
    ("meter=1,kbps,burst,band=type=drop,rate=1", MC_ADD,
     "band must have 'burst_size' when 'burst' flag is set"),
    ("meter=1,kbps,band=type=drop,rate=1,burst_size=2", MC_ADD,
     "band may have 'burst_size' only when 'burst' flag is set"),
    ("meter=1,kbps,band=type=drop,rate", MC_ADD, "field rate missing value"),
    ("meter=1,kbps,band=type=drop,rate=1,color=red", MC_ADD, "unknown keyword color"),
    ("meter", METER_REQUEST, "field meter missing value"),
    ("meter=1,kbps", METER_REQUEST, "field kbps missing value"),
])
def test_meter_text_errors(text: str, command: int, error: str) -> None:
    with pytest.raises(ParseError) as e:
        parse_meter_mod(text, command)
    assert str(e.value) == error


def test_meter_text_parses() -> None:
    mm, usable = parse_meter_mod("meter=3 pktps burst stats bands=type=dscp_remark "
                                 "rate=10 burst_size=5 prec_level=2 type=drop rate=7 "
                                 "burst_size=1", MC_ADD)
    assert usable == OF13_UP
    assert (mm.meter.meter_id, mm.meter.flags) == (3, 2 | 4 | 8)
    assert [(b.type, b.rate, b.burst_size, b.prec_level) for b in mm.meter.bands] == [
        (2, 10, 5, 2), (1, 7, 1, 0)]
    assert parse_meter_mod("meter=all", MC_DELETE)[0].meter.meter_id == 0xFFFFFFFF


# --- ports, packets, help ------------------------------------------------------------

@pytest.mark.parametrize(("word", "expected"), [
    ("up", (0, 1)), ("down", (1, 1)), ("no-flood", (16, 16)), ("noflood", (16, 16)),
    ("FLOOD", (0, 16)), ("no-packet-in", (64, 64)), ("receive-stp", (0, 8)),
])
def test_mod_port_words(word: str, expected: tuple[int, int]) -> None:
    assert mod_port_config(word) == expected


def test_mod_port_unknown_word() -> None:
    with pytest.raises(Fatal, match="unknown mod-port command 'sideways'"):
        mod_port_config("sideways")


def test_packet_out_text() -> None:
    frame = "ff" * 6 + "00" * 6 + "0800"
    po, usable = parse_packet_out(f"in_port=3 reg1=7 packet={frame} actions=output:2")
    assert po.metadata.get("in_port")[0] == 3 and po.packet == bytes.fromhex(frame)
    assert usable
    for text, error in (("in_port=1 actions=drop", "must specify packet"),
                        ("in_port=1 packet=00 actions=drop",
                         "packet: Packet data too short for Ethernet"),
                        (f"in_port=1 packet={frame}zz actions=drop",
                         "packet: Trailing garbage in packet data"),
                        (f"in_port=1 eth_src=1:2:3:4:5:6 packet={frame}",
                         "eth_src is not a valid pipeline field for PACKET_OUT"),
                        (f"frob=1 packet={frame}", "unknown keyword frob"),
                        (f"in_port= packet={frame}", "field in_port missing value")):
        with pytest.raises(ParseError) as e:
            parse_packet_out(text)
        assert str(e.value) == error
    assert len(eth_from_hex(frame)) == 14


def test_packet_in_format_names() -> None:
    assert [packet_in_format(n) for n in ("standard", "openflow10", "nxm", "nxt_packet_in",
                                          "nxt_packet_in2")] == [0, 0, 1, 1, 2]
    with pytest.raises(Fatal, match="unknown packet-in format `bogus'"):
        packet_in_format("bogus")


def test_help_is_ovs_ofctls_layout() -> None:
    every = {c for c, _ in _COMMAND_LINES if c}
    text = usage("ovs-ofctl", every)
    assert text.startswith("ovs-ofctl: OpenFlow switch management utility\n"
                           "usage: ovs-ofctl [OPTIONS] COMMAND [ARG...]\n\n"
                           "For OpenFlow switches:\n  show SWITCH ")
    assert "  --pidfile[=FILE]        create pidfile (default: " in text
    assert text.endswith("  -V, --version               display version information\n")
    # Every command ovs-ofctl documents exists now, so the texts are equal.
    assert usage("ovs-ofctl", ofctl.command_names()) == text


@pytest.mark.skipif(not Path("/usr/bin/ovs-ofctl").exists(), reason="needs ovs-ofctl")
def test_help_matches_the_real_tool() -> None:
    import subprocess
    real = subprocess.run(["/usr/bin/ovs-ofctl", "--help"], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items()
                               if k not in ("OVS_RUNDIR", "OVS_LOGDIR")}).stdout
    every = {c for c, _ in _COMMAND_LINES if c}
    env = {k: os.environ.pop(k) for k in ("OVS_RUNDIR", "OVS_LOGDIR") if k in os.environ}
    try:
        assert usage("ovs-ofctl", every) == real
    finally:
        os.environ.update(env)


def test_flow_monitor_watch_text() -> None:
    fmr, usable = parse_flow_monitor_request("!initial,tcp,tp_dst=80,table=3,out_port=2", 4)
    assert (fmr.id, fmr.table_id, fmr.out_port) == (4, 3, 2)
    assert not fmr.flags & 1 and fmr.flags & 2
    assert usable & OF10_ANY
    for text, error in (("frob=1", "frob=1: unknown keyword frob"),
                        ("table", "table: field table missing value"),
                        ("table=x", 'unknown table "x"')):
        with pytest.raises(ParseError) as e:
            parse_flow_monitor_request(text, 0)
        assert str(e.value) == error


def test_ct_flush_encoding_round_trips() -> None:
    """OVS's NXT_CT_FLUSH vectors, re-encoded by ``encode_ct_flush``, decode the same."""
    rows = [r for r in json.loads((CORPUS / "ofp_print_at.json").read_text())
            if r["title"] == "NXT_CT_FLUSH"]
    assert len(rows) == 6
    for row in rows:
        data = bytes.fromhex(row["hex"])
        msg = codec.decode(data)
        assert isinstance(msg.body, CtFlush)
        b = msg.body
        again = codec.decode(data[:2] + (16 + len(body := encode_ct_flush(
            b.ip_proto, b.orig, b.reply, b.zone))).to_bytes(2, "big") + data[4:16] + body)
        assert again.body == b


def test_ct_tuple_text() -> None:
    t, proto, l3 = parse_ct_tuple("ct_nw_src=10.0.0.1,ct_nw_proto=6,ct_tp_dst=80", 0, 0)
    assert (t.src & 0xFFFFFFFF, t.dst_port, proto, l3) == (0x0A000001, 80, 6, 2)
    for text, error in (("ct_tp_src=1", "port is set without protocol"),
                        ("ct_nw_src=1.2.3", "failed to parse field ct_nw_src"),
                        ("icmp_id=1", "invalid L4 fields"),
                        ("frob=1", "invalid conntrack tuple field: frob"),
                        ("ct_ipv6_src=::1,ct_nw_dst=1.2.3.4",
                         "the L3 protocol does not match 1.2.3.4")):
        with pytest.raises(ParseError) as e:
            parse_ct_tuple(text, 0, 0)
        assert str(e.value) == error


@pytest.mark.skipif(not Path("/usr/bin/ovs-ofctl").exists(), reason="needs ovs-ofctl")
def test_list_commands_is_ovs_ofctls_table() -> None:
    import subprocess
    real = subprocess.run(["/usr/bin/ovs-ofctl", "list-commands"], capture_output=True,
                          text=True).stdout
    assert list_commands({name for name, _ in COMMAND_TABLE}) == real
    ours = list_commands(ofctl.command_names())
    assert ours.startswith("The available commands are:\n  show                    switch\n")
