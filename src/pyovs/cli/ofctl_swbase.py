"""What pyovs-ofctl's switch commands share beyond ``OfctlBase``: xids, names, printing.

``SwitchBase`` gives the switch command groups (``ofctl_switch``,
``ofctl_groups``, ``ofctl_monitor``) ovs-ofctl's helpers:

* ``_vconn`` opens a connection whose messages draw on the run's one xid
  counter (see ``ofctl_vconn``);
* ``_accept_names`` is ovs-ofctl's ``ports_to_accept``/``tables_to_accept``:
  unless ``--no-names``, ovs-ofctl opens two short connections (hello plus a
  port list request, hello plus a table request) before parsing text that
  may name ports or tables.  Their xids are spent here in the same order;
  the port list is fetched, over a connection using exactly the reserved
  xids, only when a name must be resolved (nothing of those exchanges is
  printed, so only the xids they use show).  Table names are not fetched:
  Open vSwitch's tables have none unless configured;
* ``_port_no`` is ``str_to_port_no``: a number or reserved name, else a
  name looked up on the switch, else "unknown port";
* ``_dump`` prints every reply part as ``dump_transaction`` does, and
  ``_noreply`` prints a switch error on stderr and exits 1 as
  ``transact_noreply`` does;
* ``_open_for_mod`` is ``open_vconn_for_flow_mod``: the protocols a message
  can use against those ``-O``/``-F`` allow, with OVS's two errors.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pyovs.cli.cmdline import Fatal
from pyovs.cli.ofctl_base import OfctlBase, Options
from pyovs.cli.ofctl_flow import protocols_to_string
from pyovs.cli.ofctl_target import open_target
from pyovs.cli.ofctl_vconn import Vconn, XidCounter
from pyovs.openflow import codec
from pyovs.openflow.codec import Body, Message
from pyovs.openflow.ctext import str_to_uint
from pyovs.openflow.msg_basic import ErrorMsg, FeaturesRequest, SetFlowFormat
from pyovs.openflow.msg_port import FeaturesReply, PhyPort, PortDescReply, PortDescRequest
from pyovs.openflow.ofprint import ofp_to_string
from pyovs.openflow.ports import (
    OFPP11_MAX,
    OFPP11_OFFSET,
    OFPP_FIRST_RESV,
    OFPP_MAX,
    PortMap,
    format_port,
    parse_port,
)
from pyovs.openflow.protocols import Protocol

__all__ = ["VLOG", "LazyPortMap", "SwitchBase", "port_from_string"]

_VERSION_PROTOCOL = {1: Protocol.OF10_STD, 2: Protocol.OF11_STD, 3: Protocol.OF12_OXM,
                     4: Protocol.OF13_OXM, 5: Protocol.OF14_OXM, 6: Protocol.OF15_OXM}


class Vlog:
    """ovs-ofctl's console log lines on stderr (OVS vlog's default console pattern).

    Only warnings the commands here emit are written; the sequence number
    counts them over the whole run, as vlog's does.
    """

    def __init__(self) -> None:
        self.seq = 0
        self._once: set[str] = set()

    def warn(self, module: str, text: str, once_key: str | None = None) -> None:
        if once_key is not None:
            if once_key in self._once:
                return
            self._once.add(once_key)
        self.seq += 1
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sys.stderr.write(f"{now}|{self.seq:05d}|{module}|WARN|{text}\n")
        sys.stderr.flush()


VLOG = Vlog()


def port_from_string(text: str, port_map: PortMap | None = None) -> int | None:
    """``ofputil_port_from_string``: ``parse_port`` plus OVS's warnings about numbers."""
    if text.startswith("-"):
        VLOG.warn("ofp_port", f"Negative value {text} is not a valid port number.")
        return None
    number = str_to_uint(text, 10)
    if number is not None:
        if OFPP_MAX <= number < OFPP_FIRST_RESV:
            VLOG.warn("ofp_port", f"port {number} is a reserved OF1.0 port number that will "
                      f"be translated to {number + OFPP11_OFFSET} when talking to an OF1.1 "
                      "or later controller")
        elif OFPP_FIRST_RESV <= number <= 0xFFFF:
            VLOG.warn("ofp_port", f"referring to port {format_port(number)} as {number} is "
                      "deprecated for compatibility with OpenFlow 1.1 and later",
                      once_key="reserved port number")
        elif 0xFFFF < number < OFPP11_MAX:
            VLOG.warn("ofp_port", f"port {number} is outside the supported range 0 through "
                      f"ffff or 0x{OFPP11_MAX:x} through 0xffffffff")
    return parse_port(text, port_map)


class LazyPortMap(dict[str, int]):
    """A name -> port map that asks the switch only when first consulted.

    Text parsers take a plain dict; ovs-ofctl fetches the map before
    parsing, but nothing of that exchange is visible except its xids, which
    ``SwitchBase._accept_names`` reserves, so the fetch can wait until a
    word turns out to be a port name.
    """

    def __init__(self, load: Callable[[], Mapping[str, int]]) -> None:
        super().__init__()
        self._load: Callable[[], Mapping[str, int]] | None = load

    def _ensure(self) -> None:
        if self._load is not None:
            load, self._load = self._load, None
            self.update(load())

    def get(self, key: str, default: Any = None) -> Any:
        self._ensure()
        return super().get(key, default)

    def __getitem__(self, key: str) -> int:
        self._ensure()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._ensure()
        return super().__contains__(key)

    def __len__(self) -> int:
        self._ensure()
        return super().__len__()

    def __iter__(self) -> Iterator[str]:
        self._ensure()
        return super().__iter__()


class SwitchBase(OfctlBase):
    """The connection, xid and name helpers of the switch commands."""

    def __init__(self, program: str, opts: Options) -> None:
        super().__init__(program, opts)
        self.xids = XidCounter()
        self._port_lookup: dict[str, int | dict[str, int]] = {}
        """Per target: the first reserved xid of its port lookup, or the map once fetched."""
        self._tables_reserved: set[str] = set()

    def _vconn(self, name: str, xids: XidCounter | None = None) -> Vconn:
        return Vconn(open_target(name), self.opts.versions, name, xids or self.xids)

    # --- names ----------------------------------------------------------------

    def _accept_names(self, name: str) -> None:
        """``ports_to_accept`` and ``tables_to_accept``: spend their xids."""
        if self.opts.names is False or ":" in name:
            return
        if name not in self._port_lookup:
            self._port_lookup[name] = self.xids.last + 1
            self.xids.next()
            self.xids.next()
        if name not in self._tables_reserved:
            self._tables_reserved.add(name)
            self.xids.next()
            self.xids.next()

    def _port_map(self, name: str) -> PortMap | None:
        """The switch's port names (``get_port_map``), fetched on first need."""
        if self.opts.names is False or ":" in name:
            return None
        entry = self._port_lookup.get(name)
        if isinstance(entry, dict):
            return entry
        counter = self.xids if entry is None else XidCounter(entry - 1)
        ports = self._fetch_ports(name, counter)
        found = {p.name: p.port_no for p in ports}
        self._port_lookup[name] = found
        return found

    def _lazy_port_map(self, name: str) -> dict[str, int] | None:
        """The port map for text parsers, fetched only if a name is looked up."""
        if self.opts.names is False or ":" in name:
            return None
        return LazyPortMap(lambda: self._port_map(name) or {})

    def _fetch_ports(self, name: str, xids: XidCounter | None = None) -> list[PhyPort]:
        """Every port of the switch (ovs-ofctl's ``port_iterator``), over a new connection."""
        v = self._vconn(name, xids)
        try:
            return self._ports_on(v)
        finally:
            v.close()

    def _ports_on(self, v: Vconn) -> list[PhyPort]:
        ports: list[PhyPort] = []
        if v.version < 4:
            for m in v.transact(FeaturesRequest()):
                if not isinstance(m.body, FeaturesReply):
                    raise Fatal(f"{v.name}: received bad features reply")
                ports.extend(m.body.ports)
            return ports
        for m in v.transact(PortDescRequest()):
            if not isinstance(m.body, PortDescReply):
                raise Fatal("received bad reply: " + ofp_to_string(
                    codec.encode(m), self.opts.verbosity + 1))
            ports.extend(m.body.ports)
        return ports

    def _port_no(self, name: str, text: str) -> int:
        """``str_to_port_no``: a port number from text, names looked up on ``name``."""
        port = port_from_string(text)
        if port is None:
            port = port_from_string(text, self._port_map(name))
        if port is None:
            raise Fatal(f"{name}: unknown port `{text}'")
        return port

    # --- exchanges ----------------------------------------------------------------

    def _print_to(self, stream: str, msg: Message, verbosity: int) -> None:
        text = ofp_to_string(codec.encode(msg), verbosity)
        (sys.stderr if stream == "stderr" else sys.stdout).write(text)

    def _dump(self, v: Vconn, body: Body, raw: str | None = None) -> None:
        """``dump_transaction``: print each part of the reply."""
        for m in v.transact(body, raw):
            self._print_to("stdout", m, self.opts.verbosity + 1)
        sys.stdout.flush()

    def _noreply(self, v: Vconn, body: Body, raw: str | None = None) -> None:
        """``transact_noreply``: the switch's error, if any, on stderr and exit 1."""
        error = v.transact_noreply(body, raw)
        if error is not None:
            sys.stdout.flush()
            self._print_to("stderr", error, self.opts.verbosity + 2)
            raise Fatal("")

    def _open_for_mod(self, name: str, usable: int) -> tuple[Vconn, Protocol]:
        """``open_vconn_for_flow_mod``: a connection in a protocol ``usable`` allows."""
        allowed = self.opts.allowed
        if not usable & allowed:
            raise Fatal(f"none of the usable flow formats ({protocols_to_string(usable)}) "
                        f"is among the allowed flow formats ({protocols_to_string(allowed)})")
        v = self._vconn(name)
        current = _VERSION_PROTOCOL[v.version]
        if usable & allowed & current:
            return v, current
        for bit in range(9):
            want = Protocol(1 << bit)
            if want != current and want & usable & allowed and self._try_set(v, current, want):
                return v, want
        raise Fatal("switch does not support any of the usable flow formats "
                    f"({protocols_to_string(usable)})")

    def _try_set(self, v: Vconn, current: Protocol, want: Protocol) -> bool:
        """``try_set_protocol`` within OpenFlow 1.0 (OpenFlow10 <-> NXM)."""
        pair = (Protocol.OF10_STD, Protocol.OF10_NXM)
        if current not in pair or want not in pair:
            return False
        error = v.transact_noreply(SetFlowFormat(2 if want == Protocol.OF10_NXM else 0))
        return error is None or not isinstance(error.body, ErrorMsg)
