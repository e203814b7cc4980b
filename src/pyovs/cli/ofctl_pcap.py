"""``ofp-parse-pcap PCAP [PORT...]``: OpenFlow conversations in a packet capture.

As ovs-ofctl (``ofctl_ofp_parse_pcap`` over OVS's ``lib/pcap-file.c``):

* the capture is a classic pcap file, either byte order, microsecond or
  nanosecond timestamps, Ethernet or Linux "cooked" (SLL) link type, the
  latter turned into Ethernet frames without a destination, as OVS does;
* IPv4 TCP segments to or from an OpenFlow port (6653 and 6633, or the
  ports given) are reassembled per direction by ``TcpReader``, OVS's
  ``tcp_reader_run``: a stream starts at a SYN or at the first segment with
  data, only the segment with the next expected sequence number is taken,
  FIN or RST ends the stream;
* each complete OpenFlow message in a stream's bytes is printed after a
  ``SRC.PORT > DST.PORT:`` line (with ``--timestamp``, the capture time in
  UTC first), messages separated by blank lines; partial messages wait for
  more data.
"""

from __future__ import annotations

import os
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from pyovs.cli.cmdline import Command, Fatal
from pyovs.cli.ofctl_swbase import VLOG, SwitchBase
from pyovs.openflow.act_wire import atoi
from pyovs.openflow.dstext import hex_dump
from pyovs.openflow.ofprint import ofp_to_string

__all__ = ["PcapCommands", "TcpReader", "pcap_records", "tcp_segment"]

PCAP_HEADER: Final = struct.Struct("=IHHiIII")
RECORD_HEADER: Final = struct.Struct("=IIII")
PCAP_ETHERNET: Final = 1
PCAP_LINUX_SLL: Final = 113
SLL_HEADER: Final = struct.Struct("!HHH6s2xH")
"""Linux cooked capture: packet type, ARP hardware type, address length, source, protocol."""
OPENFLOW_PORTS: Final = (6653, 6633)
TCP_FIN, TCP_SYN, TCP_RST = 0x01, 0x02, 0x04
_VLAN_TYPES: Final = (0x8100, 0x88A8)


class PcapError(Exception):
    """The file is not a pcap file OVS can read: the errno text and a log line."""

    def __init__(self, strerror: str, log: str) -> None:
        super().__init__(log)
        self.strerror = strerror
        self.log = log


class PcapStop(Exception):
    """A record OVS cannot read: reading stops there, after a log line (and a dump)."""

    def __init__(self, log: str, dump: str = "") -> None:
        super().__init__(log)
        self.log = log
        self.dump = dump


def _swap32(v: int) -> int:
    return int.from_bytes(v.to_bytes(4, "little"), "big")


def pcap_records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(time in ms, Ethernet frame) of each record (OVS ``ovs_pcap_read``).

    ``PcapError`` for a header OVS refuses, ``PcapStop`` where it stops reading.
    """
    if len(data) < PCAP_HEADER.size:
        raise PcapError("End of file", "failed to read pcap header: End of file")
    magic, _, _, _, _, _, network = PCAP_HEADER.unpack_from(data)
    if magic in (0xA1B2C3D4, 0xD4C3B2A1):
        swap, nsec = magic == 0xD4C3B2A1, False
    elif magic in (0xA1B23C4D, 0x4D3CB2A1):
        swap, nsec = magic == 0x4D3CB2A1, True
    else:
        raise PcapError("Protocol error", f"bad magic 0x{magic:08x} reading pcap file (expected "
                        "0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, or 0x4d3cb2a1)")
    if swap:
        network = _swap32(network)
    if network not in (PCAP_ETHERNET, PCAP_LINUX_SLL):
        raise PcapError("Protocol error", f"unknown network type {network} reading pcap file")
    pos = PCAP_HEADER.size
    while len(data) - pos >= RECORD_HEADER.size:
        ts_sec, ts_sub, incl_len, _ = RECORD_HEADER.unpack_from(data, pos)
        if incl_len > 0xFFFF:
            ts_sec, ts_sub, length = _swap32(ts_sec), _swap32(ts_sub), _swap32(incl_len)
            if length > 0xFFFF:
                raise PcapStop(f"bad packet length {length} or {incl_len} reading pcap file")
            incl_len = length
        pos += RECORD_HEADER.size
        if len(data) - pos < incl_len:
            raise PcapStop("failed to read pcap packet: End of file")
        frame = data[pos:pos + incl_len]
        pos += incl_len
        if network == PCAP_LINUX_SLL:
            if len(frame) < SLL_HEADER.size:
                raise PcapStop("pcap packet too short for SLL header")
            _, _, lla_len, dl_src, protocol = SLL_HEADER.unpack_from(frame)
            if lla_len != 6:
                raise PcapStop("bad SLL header", hex_dump(frame[:SLL_HEADER.size], ascii=False))
            frame = bytes(6) + dl_src + protocol.to_bytes(2, "big") + frame[SLL_HEADER.size:]
        sub_ms = ts_sub // 1000000 if nsec else ts_sub // 1000
        yield ts_sec * 1000 + sub_ms, frame


@dataclass(frozen=True, slots=True)
class Segment:
    """The parts of an IPv4 TCP segment the reader needs."""

    src: int
    dst: int
    sport: int
    dport: int
    seq: int
    flags: int
    payload: bytes


def tcp_segment(frame: bytes) -> Segment | None:
    """An IPv4 TCP segment's addresses, ports, sequence, flags and payload, or None."""
    if len(frame) < 14:
        return None
    pos = 12
    eth_type = int.from_bytes(frame[pos:pos + 2], "big")
    while eth_type in _VLAN_TYPES and len(frame) >= pos + 6:
        pos += 4
        eth_type = int.from_bytes(frame[pos:pos + 2], "big")
    pos += 2
    if eth_type != 0x0800 or len(frame) - pos < 20:
        return None
    ihl = (frame[pos] & 0xF) * 4
    total = int.from_bytes(frame[pos + 2:pos + 4], "big")
    frag = int.from_bytes(frame[pos + 6:pos + 8], "big")
    if frame[pos] >> 4 != 4 or ihl < 20 or frame[pos + 9] != 6 or frag & 0x1FFF:
        return None
    if total < ihl or len(frame) - pos < total:
        return None
    src, dst = struct.unpack_from("!II", frame, pos + 12)
    l4, end = pos + ihl, pos + total
    if end - l4 < 20:
        return None
    sport, dport, seq = struct.unpack_from("!HHI", frame, l4)
    offset = (frame[l4 + 12] >> 4) * 4
    if offset < 20 or end - l4 < offset:
        return None
    return Segment(src, dst, sport, dport, seq, frame[l4 + 13], frame[l4 + offset:end])


@dataclass(slots=True)
class _Stream:
    seq: int
    payload: bytearray = field(default_factory=bytearray)


@dataclass(slots=True)
class TcpReader:
    """OVS ``tcp_reader``: each direction's in-order bytes."""

    streams: dict[tuple[int, int, int, int], _Stream] = field(default_factory=dict)

    def run(self, s: Segment) -> bytearray | None:
        """The stream's unconsumed bytes after ``s``, or None if it added nothing."""
        key = (s.src, s.dst, s.sport, s.dport)
        stream = self.streams.get(key)
        if stream is None:
            if not (s.flags & TCP_SYN or s.payload):
                return None
            stream = self.streams[key] = _Stream(s.seq + 1 if s.flags & TCP_SYN else s.seq)
        if s.flags & TCP_SYN or not stream.seq:
            stream.payload.clear()
            stream.seq = (s.seq + 1) & 0xFFFFFFFF
            return None
        if s.flags & (TCP_FIN | TCP_RST):
            del self.streams[key]
            return None
        if s.seq == stream.seq:
            stream.payload += s.payload
            stream.seq = (stream.seq + len(s.payload)) & 0xFFFFFFFF
            return stream.payload
        return None


def _ip(addr: int) -> str:
    return ".".join(str(b) for b in addr.to_bytes(4, "big"))


class PcapCommands(SwitchBase):
    """Offline reading of captured OpenFlow traffic."""

    def ofp_parse_pcap(self, args: list[str]) -> None:
        """``ofp-parse-pcap PCAP [PORT...]``."""
        name = args[0]
        ports = tuple(atoi(p) & 0xFFFF for p in args[1:]) or OPENFLOW_PORTS
        try:
            with open(name, "rb") as f:
                data = f.read()
        except OSError as e:
            VLOG.warn("pcap", f"{name}: failed to open pcap file for reading "
                      f"({os.strerror(e.errno or 0)})")
            raise Fatal(f"{name}: open failed ({os.strerror(e.errno or 0)})") from None
        stamp = any(option == "--timestamp" for option, _ in self.opts.other)
        reader = TcpReader()
        first = True
        out = sys.stdout
        try:
            for when, frame in pcap_records(data):
                s = tcp_segment(frame)
                if s is None or not (s.sport in ports or s.dport in ports):
                    continue
                payload = reader.run(s)
                while payload is not None and len(payload) >= 8:
                    length = int.from_bytes(payload[2:4], "big")
                    if len(payload) < length or length < 8:
                        break
                    if not first:
                        out.write("\n")
                    first = False
                    if stamp:
                        out.write(time.strftime("%H:%M:%S", time.gmtime(when // 1000))
                                  + f".{when % 1000:03d} ")
                    out.write(f"{_ip(s.src)}.{s.sport} > {_ip(s.dst)}.{s.dport}:\n")
                    out.write(ofp_to_string(bytes(payload[:length]), self.opts.verbosity + 1))
                    del payload[:length]
        except PcapError as e:
            VLOG.warn("pcap", e.log)
            raise Fatal(f"{name}: open failed ({e.strerror})") from None
        except PcapStop as e:
            out.write(e.dump)
            out.flush()
            VLOG.warn("pcap", e.log)

    def pcap_commands(self) -> list[Command]:
        return [Command("ofp-parse-pcap", None, 1, 0x7FFFFFFF, self.ofp_parse_pcap)]
