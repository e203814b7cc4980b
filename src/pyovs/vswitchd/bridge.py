"""Reconciliation: the Open_vSwitch database -> running bridges, and status back.

``Reconciler.reconfigure`` is OVS's ``bridge_reconfigure``: it compares
the replica (``DbSync.tables``) with what runs and makes the difference --
bridges created and destroyed (each an ``Ofproto`` with its ``ConnMgr``),
ports and interfaces opened and closed (a netdev in the shared datapath,
or a patch port that only xlate knows), VLAN settings, controllers,
fail mode and protocols applied.  Nothing is torn down that did not
change, so reconfiguring is cheap and traffic keeps flowing.

Then it writes back what the database should show (``status_ops``):
``Interface`` ofport (honouring ``ofport_request``), ifindex, mac_in_use,
mtu, admin_state, link_state and error; ``Bridge`` datapath_id and
datapath_version;
``Controller`` is_connected/role/status; ``Open_vSwitch`` cur_cfg =
next_cfg once all of that is applied, which is what ``ovs-vsctl`` (without
``--no-wait``) waits for.  Only columns whose value differs are written.

Bad configuration stays local: a device that cannot be opened, a taken
``ofport_request`` or a patch port without a peer puts a message in that
Interface's ``error`` (and ofport -1) and everything else carries on.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Final

from pyovs.datapath.dpif import Dpif
from pyovs.datapath.netdev import open_netdev
from pyovs.datapath.netdev.base import Netdev, NetdevError
from pyovs.ofproto.backer import Backer
from pyovs.ofproto.connmgr import ConnMgr, ControllerStatus, versions_from_protocols
from pyovs.ofproto.normal import VlanConfig
from pyovs.ofproto.ofproto import Ofproto, PortInfo
from pyovs.ofproto.xlate import XPort
from pyovs.openflow.actions import Output
from pyovs.openflow.msg_flow import FlowMod
from pyovs.openflow.msg_port import PortStats
from pyovs.openflow.ports import OFPP_LOCAL, OFPP_MAX, OFPP_NORMAL
from pyovs.openflow.values import eth_to_str, scan_eth
from pyovs.ovsdb.data import Uuid

from .dbsync import DbSync, Row, as_map, as_set, scalar

__all__ = ["Reconciler"]

log = logging.getLogger("bridge")

DATAPATH_TYPES: Final = ("netdev", "system")
DEFAULT_FLOW_LIMIT: Final = 0xFFFFFFFF
IFACE_TYPES: Final = ("dummy", "internal", "patch", "system", "tap")
OFPPF_10MB_FD, OFPPF_10GB_FD, OFPPF_COPPER = 1 << 1, 1 << 6, 1 << 11
LINK_FEATURES: Final = {
    "system": (OFPPF_10GB_FD | OFPPF_COPPER, 10_000_000),  # a veth, as ethtool reports it
    "internal": (OFPPF_10MB_FD | OFPPF_COPPER, 10_000),  # a tap device's default
    "tap": (OFPPF_10MB_FD | OFPPF_COPPER, 10_000),
}
"""Interface type -> (OpenFlow "current" features, kbps); dummy and patch have none."""
NORMAL_FLOW: Final = FlowMod(priority=0, actions=(Output(OFPP_NORMAL),))


@dataclass(slots=True)
class Iface:
    name: str
    kind: str
    ofport: int = -1
    odp: int | None = None
    netdev: Netdev | None = None
    error: str = ""
    peer: str = ""
    config_key: tuple[Any, ...] = ()


@dataclass(slots=True)
class BridgeState:
    name: str
    ofproto: Ofproto
    connmgr: ConnMgr
    ifaces: dict[str, Iface] = field(default_factory=dict)
    """Interface name -> state (the bridge's own interface included)."""
    fail_mode: str = "standalone"
    controllers: tuple[str, ...] = ()
    has_normal_flow: bool = False
    hw_addr: int = 0
    """The bridge's MAC (other_config:hwaddr, else stable per name): its own port's."""
    configured_tables: set[int] = field(default_factory=set)
    """Tables that Bridge:flow_tables configured (reset when they leave it)."""


def _stable_mac(name: str) -> int:
    digest = hashlib.sha256(name.encode()).digest()
    mac = int.from_bytes(digest[:6], "big")
    return (mac & ~(1 << 40)) | (1 << 41)  # unicast, locally administered


class Reconciler:
    """Keeps bridges in line with the database (see the module comment)."""

    def __init__(self, db: DbSync, dpif: Dpif) -> None:
        self.db = db
        self.dpif = dpif
        self.backer = Backer(dpif)
        self.bridges: dict[str, BridgeState] = {}
        self._starting: set[str] = set()

    # -- reading the replica ---------------------------------------------------------
    def _rows(self, table: str) -> dict[Uuid, Row]:
        return self.db.tables.get(table, {})

    def _ovs_row(self) -> tuple[Uuid, Row] | None:
        for uuid, row in self._rows("Open_vSwitch").items():
            return uuid, row
        return None

    # -- reconfigure -------------------------------------------------------------------
    async def reconfigure(self) -> None:
        ovs = self._ovs_row()
        wanted: dict[str, Row] = {}
        if ovs is not None:
            bridges = self._rows("Bridge")
            for ref in as_set(ovs[1], "bridges"):
                row = bridges.get(ref)
                if row is not None:
                    wanted[scalar(row, "name", "")] = row
        for name in list(self.bridges):
            if name not in wanted:
                await self._del_bridge(name)
        for name, row in wanted.items():
            if name not in self.bridges:
                await self._add_bridge(name, row)
            self._configure_bridge(self.bridges[name], row)
        self._resolve_patches()

    async def _add_bridge(self, name: str, row: Row) -> None:
        other = as_map(row, "other_config")
        hwaddr = _parse_mac(other.get("hwaddr", "")) or _stable_mac(name)
        dpid_text = other.get("datapath-id", "")
        dpid = int(dpid_text, 16) if _is_dpid(dpid_text) else hwaddr
        ofproto = Ofproto(name, dpid, self.backer)
        cm = ConnMgr(ofproto)
        state = BridgeState(name, ofproto, cm, hw_addr=hwaddr)
        cm.on_change = lambda: self.update_fail_open(state)
        self.bridges[name] = state
        self.backer.bridges[name] = ofproto
        try:
            await cm.start()
        except OSError as e:
            log.error("%s: cannot listen on %s: %s", name, cm.mgmt_path, e)

    async def _del_bridge(self, name: str) -> None:
        state = self.bridges.pop(name)
        for iface in list(state.ifaces.values()):
            self._close_iface(state, iface)
        self.backer.bridges.pop(name, None)
        await state.connmgr.close()
        self.backer.revalidate()

    def _configure_bridge(self, state: BridgeState, row: Row) -> None:
        ofp = state.ofproto
        other = as_map(row, "other_config")
        dpid_text = other.get("datapath-id", "")
        if _is_dpid(dpid_text):
            ofp.datapath_id = int(dpid_text, 16)
        aging = other.get("mac-aging-time")
        size = other.get("mac-table-size")
        if aging and aging.isdigit():
            ofp.mac.aging = float(aging)
        if size and size.isdigit():
            ofp.mac.size = max(1, int(size))
        state.connmgr.versions = versions_from_protocols(as_set(row, "protocols"))
        # Controllers.
        controllers = self._rows("Controller")
        targets = tuple(sorted(scalar(controllers[c], "target", "")
                               for c in as_set(row, "controller") if c in controllers))
        if targets != state.controllers:
            state.controllers = targets
            state.connmgr.set_controllers(list(targets))
        # Fail mode: a standalone bridge without controllers is a learning switch.
        fail_mode = scalar(row, "fail_mode", "") or "standalone"
        want_normal = fail_mode == "standalone" and not targets
        if fail_mode != state.fail_mode or want_normal != state.has_normal_flow:
            if fail_mode != state.fail_mode:
                ofp.flush_flows()
            if want_normal and not state.has_normal_flow:
                ofp.flow_mod(NORMAL_FLOW)
            state.fail_mode = fail_mode
            state.has_normal_flow = want_normal
        self.update_fail_open(state)
        self._configure_tables(state, row)
        # Ports and interfaces.
        ports = self._rows("Port")
        ifaces = self._rows("Interface")
        wanted: dict[str, tuple[Row, Row]] = {}
        for pref in as_set(row, "ports"):
            prow = ports.get(pref)
            if prow is None:
                continue
            for iref in as_set(prow, "interfaces"):
                irow = ifaces.get(iref)
                if irow is not None:
                    wanted[scalar(irow, "name", "")] = (prow, irow)
        for name in list(state.ifaces):
            if name not in wanted:
                self._close_iface(state, state.ifaces.pop(name))
        for name, (prow, irow) in sorted(wanted.items(), key=lambda kv: kv[0] != state.name):
            self._configure_iface(state, name, prow, irow)

    def _configure_tables(self, state: BridgeState, row: Row) -> None:
        """Bridge:flow_tables -> each OpenFlow table's name and flow limit (OVS's
        ``bridge_configure_tables``); a table without a Flow_Table row gets the defaults."""
        flow_tables = self._rows("Flow_Table")
        config: dict[int, Row] = {}
        for table_id, ref in as_map(row, "flow_tables").items():
            ft = flow_tables.get(ref)
            if ft is not None and isinstance(table_id, int):
                config[table_id] = ft
        tables = state.ofproto.tables.tables
        for table_id in set(config) | set(state.configured_tables):
            if table_id >= len(tables):
                continue
            ft = config.get(table_id, {})
            table = tables[table_id]
            name = scalar(ft, "name", "") or ""
            limit = scalar(ft, "flow_limit")
            if (table.name, table.max_flows) != (name, DEFAULT_FLOW_LIMIT if limit is None
                                                  else limit):
                table.name = name
                table.max_flows = DEFAULT_FLOW_LIMIT if limit is None else limit
        state.configured_tables = set(config)

    def _configure_iface(self, state: BridgeState, name: str, prow: Row, irow: Row) -> None:
        ofp = state.ofproto
        kind = scalar(irow, "type", "") or "system"
        options = as_map(irow, "options")
        if name == state.name:
            kind = "internal"
        req = scalar(irow, "ofport_request")
        key = (kind, tuple(sorted(options.items())), req)
        iface = state.ifaces.get(name)
        if iface is not None and iface.config_key != key:
            self._close_iface(state, state.ifaces.pop(name))
            iface = None
        if iface is None:
            iface = self._open_iface(state, name, kind, options, req)
            iface.config_key = key
            state.ifaces[name] = iface
        vlan = VlanConfig.from_port(scalar(prow, "vlan_mode"), scalar(prow, "tag"),
                                    as_set(prow, "trunks"))
        x = ofp.ports.get(iface.ofport)
        if x is not None and x.vlan != vlan:
            x.vlan = vlan
            ofp.mac.flush(port=iface.ofport)
            self.backer.revalidate()

    def _open_iface(self, state: BridgeState, name: str, kind: str, options: dict[str, str],
                    req: int | None) -> Iface:
        ofp = state.ofproto
        iface = Iface(name, kind)
        if kind not in IFACE_TYPES:
            iface.error = (f"could not open network device {name} "
                           "(Address family not supported by protocol)")
            return iface
        if name == state.name:
            ofport = OFPP_LOCAL
        else:
            used = {i.ofport for i in state.ifaces.values()}
            if req is not None and (req < 1 or req >= OFPP_MAX):
                iface.error = f"ofport_request {req} is not a valid OpenFlow port number"
                return iface
            if req is not None and req in used:
                iface.error = f"ofport_request {req} is already in use by another interface"
                return iface
            ofport = req if req is not None else _lowest_free(used)
        if kind == "patch":
            peer = options.get("peer", "")
            if not peer:
                iface.error = "patch port has no peer (options:peer)"
                return iface
            if peer == name:
                iface.error = "patch port cannot be its own peer"
                return iface
            iface.peer = peer
            iface.ofport = ofport
            xport = XPort(ofport, name, None)
            ofp.add_port(PortInfo(xport, hw_addr=_stable_mac(name), curr=0, speed_kbps=0))
            return iface
        try:
            netdev = open_netdev(name, kind, options)
        except NetdevError as e:
            if kind != "internal" or os.geteuid() == 0:
                iface.error = str(e)
                return iface
            # Without root there are no tap devices: the bridge's own port
            # (and other internal ports) live in memory, as OVS's
            # --enable-dummy makes them; everything else keeps working.
            log.info("%s: %s; using an in-memory internal port", name, e)
            netdev = open_netdev(name, "dummy", {})
        except OSError as e:
            iface.error = f"could not open network device {name} ({e.strerror})"
            return iface
        if name == state.name:
            hw = state.hw_addr
            if hasattr(netdev, "set_mac"):
                with contextlib.suppress(OSError):
                    netdev.set_mac(hw.to_bytes(6, "big"))
        odp = self.dpif.port_add(netdev)
        iface.netdev, iface.odp, iface.ofport = netdev, odp, ofport
        self.backer.bind(odp, ofp, ofport)
        st = netdev.status()
        xport = XPort(ofport, name, odp, live=st.carrier and st.admin_up)
        curr, speed = LINK_FEATURES.get(netdev.kind, (0, 0))
        ofp.add_port(PortInfo(xport, hw_addr=int.from_bytes(st.mac, "big"), curr=curr,
                              speed_kbps=speed, stats=_stats_reader(netdev),
                              set_admin=_admin_switch(netdev)))
        return iface

    def _close_iface(self, state: BridgeState, iface: Iface) -> None:
        if iface.ofport >= 0 and iface.ofport in state.ofproto.ports:
            state.ofproto.del_port(iface.ofport)
        if iface.odp is not None:
            self.backer.unbind(iface.odp)
            with contextlib.suppress(KeyError, OSError):
                self.dpif.port_del(iface.odp)
        if iface.netdev is not None:
            iface.netdev.close()

    def _resolve_patches(self) -> None:
        by_name: dict[str, tuple[BridgeState, Iface]] = {}
        for st in self.bridges.values():
            for iface in st.ifaces.values():
                if iface.kind == "patch" and iface.ofport >= 0:
                    by_name[iface.name] = (st, iface)
        for st, iface in by_name.values():
            x = st.ofproto.ports.get(iface.ofport)
            if x is None:
                continue
            other = by_name.get(iface.peer)
            peer = None
            if other is not None and other[1].peer == iface.name:
                peer = (other[0].ofproto, other[1].ofport)
            if (x.peer is None) != (peer is None) or (
                    x.peer is not None and peer is not None
                    and (x.peer[0] is not peer[0] or x.peer[1] != peer[1])):
                x.peer = peer
                x.live = peer is not None
                self.backer.revalidate()

    # -- periodic status ---------------------------------------------------------------
    def update_fail_open(self, state: BridgeState) -> None:
        """Standalone + controllers + none connected: behave as a learning switch."""
        fail_open = (state.fail_mode == "standalone" and bool(state.controllers)
                     and not state.connmgr.any_controller_connected())
        if fail_open != state.ofproto.fail_open:
            state.ofproto.fail_open = fail_open
            self.backer.revalidate()

    def refresh_link_state(self) -> None:
        for st in self.bridges.values():
            self.update_fail_open(st)
            for iface in st.ifaces.values():
                if iface.netdev is None:
                    continue
                s = iface.netdev.status()
                x = st.ofproto.ports.get(iface.ofport)
                live = s.carrier and s.admin_up
                if x is not None and x.live != live:
                    x.live = live
                    st.ofproto.port_changed(iface.ofport)

    def status_ops(self, with_stats: bool = False) -> list[dict[str, Any]]:
        """Operations that bring the database's status columns up to date."""
        ops: list[dict[str, Any]] = []
        by_name: dict[str, tuple[BridgeState, Iface]] = {}
        for st in self.bridges.values():
            for iface in st.ifaces.values():
                by_name[iface.name] = (st, iface)
        for uuid, row in self._rows("Interface").items():
            name = scalar(row, "name", "")
            found = by_name.get(name)
            want: dict[str, Any] = {}
            if found is None:
                continue
            st, iface = found
            want["ofport"] = iface.ofport if not iface.error else -1
            want["error"] = ["set", [iface.error]] if iface.error else ["set", []]
            if iface.netdev is not None:
                s = iface.netdev.status()
                want["ifindex"] = s.ifindex
                want["mac_in_use"] = eth_to_str(int.from_bytes(s.mac, "big"))
                want["mtu"] = s.mtu
                want["admin_state"] = "up" if s.admin_up else "down"
                want["link_state"] = "up" if s.carrier else "down"
                if with_stats:
                    n = iface.netdev.stats()
                    want["statistics"] = ["map", sorted(
                        [[k, getattr(n, k)] for k in ("collisions", "rx_bytes", "rx_dropped",
                                                      "rx_errors", "rx_packets", "tx_bytes",
                                                      "tx_dropped", "tx_errors", "tx_packets")])]
            elif iface.kind == "patch" and not iface.error:
                x = st.ofproto.ports.get(iface.ofport)
                up = x is not None and x.peer is not None
                want["admin_state"] = "up" if up else "down"
                want["link_state"] = "up" if up else "down"
                want["mac_in_use"] = eth_to_str(_stable_mac(name))
            changes = {k: v for k, v in want.items() if not _same(row, k, v)}
            if changes:
                ops.append({"op": "update", "table": "Interface",
                            "where": [["_uuid", "==", ["uuid", uuid]]], "row": changes})
        for uuid, row in self._rows("Bridge").items():
            st2 = self.bridges.get(scalar(row, "name", ""))
            if st2 is None:
                continue
            want = {"datapath_id": f"{st2.ofproto.datapath_id:016x}",
                    "datapath_version": "<built-in>"}
            changes = {k: v for k, v in want.items() if not _same(row, k, v)}
            if changes:
                ops.append({"op": "update", "table": "Bridge",
                            "where": [["_uuid", "==", ["uuid", uuid]]], "row": changes})
            status = st2.connmgr.controller_status()
            controllers = self._rows("Controller")
            for cref in as_set(row, "controller"):
                crow = controllers.get(cref)
                if crow is None:
                    continue
                cs = status.get(scalar(crow, "target", ""))
                if cs is None:
                    continue
                status_map = _controller_status(cs, time.monotonic())
                want = {"is_connected": cs.connected, "role": cs.role,
                        "status": ["map", sorted([k, v] for k, v in status_map.items())]}
                changes = {k: v for k, v in want.items() if not _same(crow, k, v)}
                if not with_stats and "status" in changes:
                    # The seconds counters alone are refreshed with the statistics.
                    steady = {k: v for k, v in as_map(crow, "status").items()
                              if not k.startswith("sec_since")}
                    if steady == {k: v for k, v in status_map.items()
                                  if not k.startswith("sec_since")}:
                        del changes["status"]
                if changes:
                    ops.append({"op": "update", "table": "Controller",
                                "where": [["_uuid", "==", ["uuid", cref]]], "row": changes})
        ovs = self._ovs_row()
        if ovs is not None:
            uuid, row = ovs
            want = {"cur_cfg": scalar(row, "next_cfg", 0), "dpdk_initialized": False,
                    "datapath_types": ["set", list(DATAPATH_TYPES)],
                    "iface_types": ["set", list(IFACE_TYPES)]}
            changes = {k: v for k, v in want.items() if not _same(row, k, v)}
            if changes:
                ops.append({"op": "update", "table": "Open_vSwitch",
                            "where": [["_uuid", "==", ["uuid", uuid]]], "row": changes})
        return ops

    async def shutdown(self) -> None:
        for name in list(self.bridges):
            await self._del_bridge(name)


def _controller_status(cs: ControllerStatus, now: float) -> dict[str, str]:
    """OVS ``ofproto_get_controller_info``: the Controller row's ``status`` map."""
    out = {"state": cs.state}
    if cs.last_error:
        out["last_error"] = cs.last_error
    if cs.connected_at is not None:
        out["sec_since_connect"] = str(int(now - cs.connected_at))
    if cs.disconnected_at is not None:
        out["sec_since_disconnect"] = str(int(now - cs.disconnected_at))
    return out


def _same(row: Row, column: str, value: Any) -> bool:
    d = row.get(column)
    current = d.to_json() if d is not None else None
    if current == value:
        return True
    if isinstance(value, list) and value and value[0] in ("set", "map"):
        if current is None:
            return not value[1]
        if not isinstance(current, list):
            return bool(value[0] == "set" and value[1] == [current])
        return bool(current == value)
    if isinstance(current, list) and current[0] == "set":
        return bool(value in current[1] and len(current[1]) == 1)
    return False


def _lowest_free(used: set[int]) -> int:
    n = 1
    while n in used:
        n += 1
    return n


def _is_dpid(text: str) -> bool:
    return len(text) == 16 and all(c in "0123456789abcdefABCDEF" for c in text)


def _parse_mac(text: str) -> int | None:
    got = scan_eth(text, 0)
    return got[0] if got is not None and got[1] == len(text) else None


def _admin_switch(netdev: Netdev) -> Any:
    """A port mod's PORT_DOWN: the device goes down (or up); is its link live then?"""
    def switch(up: bool) -> bool:
        try:
            netdev.set_admin_up(up)
        except OSError as e:
            log.warning("%s: cannot set the device %s: %s", netdev.name,
                        "up" if up else "down", e)
        st = netdev.status()
        return st.admin_up and st.carrier
    return switch


def _stats_reader(netdev: Netdev) -> Any:
    def read() -> PortStats:
        s = netdev.stats()
        return PortStats(0, s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes, s.rx_dropped,
                         s.tx_dropped, s.rx_errors, s.tx_errors, 0, 0, 0, s.collisions)
    return read

