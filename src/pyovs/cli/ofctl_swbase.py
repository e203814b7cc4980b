"""What pyovs-ofctl's switch commands share beyond ``OfctlBase``: xids, names, printing.

``SwitchBase`` gives the switch command groups (``ofctl_switch``,
``ofctl_groups``, ``ofctl_monitor``) ovs-ofctl's helpers:

* ``_vconn`` opens a connection whose messages draw on the run's one xid
  counter: ovs-ofctl numbers every hello, request and barrier of the run,
  over every connection, from one counter, and the xids show in printed
  replies and errors (the flow commands' ``ofctl_flowio.FlowVconn``);
* ``_accept_names`` is ovs-ofctl's ``tables_to_accept``/``ports_to_accept``:
  unless ``--no-names``, ovs-ofctl reads the switch's table and port names
  over two short connections before parsing text that may name them
  (``ofctl_flowio.NameMaps``, shared with the flow commands);
* ``_port_no`` is ``str_to_port_no``: a number or reserved name, else a
  name looked up on the switch, else "unknown port", with OVS's warnings
  about reserved port numbers (``port_from_string``, ``VLOG``);
* ``_dump`` prints every reply part as ``dump_transaction`` does, and
  ``_noreply`` prints a switch error on stderr and exits 1 as
  ``transact_noreply`` does;
* ``_open_for_mod`` is ``open_vconn_for_flow_mod``: the protocols a message
  can use against those ``-O``/``-F`` allow, with OVS's two errors.
"""

from __future__ import annotations

import os
import sys
import time

from pyovs.cli.cmdline import Fatal
from pyovs.cli.ofctl_base import OfctlBase, Options
from pyovs.cli.ofctl_flow import protocols_to_string
from pyovs.cli.ofctl_flowio import FlowVconn, NameMaps, XidCounter
from pyovs.openflow import codec
from pyovs.openflow.codec import Body, Message
from pyovs.openflow.ctext import str_to_uint
from pyovs.openflow.msg_basic import FeaturesRequest
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

__all__ = ["VLOG", "SwitchBase", "port_from_string"]

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


class SwitchBase(OfctlBase):
    """The connection, xid and name helpers of the switch commands."""

    def __init__(self, program: str, opts: Options) -> None:
        super().__init__(program, opts)
        self.xids = XidCounter()
        self.names = NameMaps(opts.versions, self.xids)

    def _vconn(self, name: str) -> FlowVconn:
        return FlowVconn(name, self.opts.versions, self.xids)

    # --- names ----------------------------------------------------------------

    def _accept_names(self, name: str, ports_first: bool = False
                      ) -> tuple[dict[str, int] | None, dict[str, int] | None]:
        """``ports_to_accept``/``tables_to_accept``: the (port, table) name maps.

        Where ovs-ofctl passes both as function arguments, the compiler
        evaluates the table map first, so its connection takes the first
        two xids; where it fills a struct (the old packet-out syntax), the
        port map comes first.
        """
        if self.opts.names is False:
            return None, None
        if ports_first:
            ports = self.names.ports(name).by_name
            return ports, self.names.tables(name).by_name
        tables = self.names.tables(name).by_name
        return self.names.ports(name).by_name, tables

    def _port_map(self, name: str) -> PortMap | None:
        return self.names.ports(name).by_name if self.opts.names is not False else None

    def _fetch_ports(self, name: str) -> list[PhyPort]:
        """Every port of the switch (ovs-ofctl's ``port_iterator``), over a new connection."""
        v = self._vconn(name)
        try:
            return self._ports_on(v)
        finally:
            v.close()

    def _ports_on(self, v: FlowVconn) -> list[PhyPort]:
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

    def _names_shown(self) -> bool:
        """``should_show_names``: with ``--names``, or by default on a terminal."""
        if self.opts.names is None:
            try:
                return os.isatty(sys.stdout.fileno())
            except (OSError, ValueError):
                return False
        return self.opts.names

    def _shown_maps(self, switch: str | None
                    ) -> tuple[dict[int, str] | None, dict[int, str] | None]:
        """``ports_to_show``/``tables_to_show`` (tables first, OVS's argument order)."""
        if switch is None or not self._names_shown():
            return None, None
        tables = self.names.tables(switch).by_number
        return self.names.ports(switch).by_number, tables

    def _print_to(self, stream: str, msg: Message, verbosity: int,
                  switch: str | None = None) -> None:
        ports, tables = self._shown_maps(switch)
        text = ofp_to_string(codec.encode(msg), verbosity, ports, tables)
        (sys.stderr if stream == "stderr" else sys.stdout).write(text)

    def _dump(self, v: FlowVconn, body: Body, raw: str | None = None) -> None:
        """``dump_transaction``: print each part of the reply."""
        for m in v.transact(body, raw):
            self._print_to("stdout", m, self.opts.verbosity + 1, v.name)
        sys.stdout.flush()

    def _noreply(self, v: FlowVconn, body: Body, raw: str | None = None) -> None:
        """``transact_noreply``: the switch's error, if any, on stderr and exit 1."""
        error = v.transact_multiple_noreply([v.encode(body, raw)])
        if error is not None:
            sys.stdout.flush()
            self._print_to("stderr", error, self.opts.verbosity + 2, v.name)
            raise Fatal("")

    def _open_for_mod(self, name: str, usable: int) -> tuple[FlowVconn, Protocol]:
        """``open_vconn_for_flow_mod``: a connection in a protocol ``usable`` allows."""
        allowed = self.opts.allowed
        if not usable & allowed:
            raise Fatal(f"none of the usable flow formats ({protocols_to_string(usable)}) "
                        f"is among the allowed flow formats ({protocols_to_string(allowed)})")
        v = self._vconn(name)
        return v, v.protocol_for_flow_mod(usable, allowed)
