"""ovs-vsctl's view of the switch: bridges, fake bridges, ports, interfaces.

The Open_vSwitch database stores a tree -- the root row's ``bridges``, each
bridge's ``ports``, each port's ``interfaces`` -- but users think in names
and in *fake bridges*: a port with ``fake_bridge=true`` and a VLAN ``tag``
behaves as a bridge of its own, whose ports are its parent's ports carrying
that tag.  :class:`VsctlContext` keeps OVS's cache of that view (bridges,
ports and interfaces by name, built lazily from the replica by
:meth:`VsctlContext.populate_cache` and dropped whenever a generic command
may have changed the tree), and its methods find and edit bridges, ports
and interfaces exactly as ``utilities/ovs-vsctl.c`` does, including which
columns each lookup verifies (so that concurrent changes make the
transaction try again rather than clobber them) and every error message.
The commands themselves are in :mod:`pyovs.cli.vsctl_cmds`.

New interfaces are remembered so that, after waiting for ovs-vswitchd,
``ovs-vsctl`` can report those it failed to set up (``ofport`` of -1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyovs.ctl.engine import Context, CtlFatal, CtlSchema, Log, set_column
from pyovs.ctl.idl import Idl, IdlRow, Txn
from pyovs.ctl.session import escape_args
from pyovs.ovsdb.data import Atom, Datum, SymbolTable, Uuid
from pyovs.ovsdb.ovsorder import shash_order
from pyovs.ovsdb.table_format import c_atoi

__all__ = ["VsctlContext", "as_vsctl", "c_atoi", "pre_get_info", "sorted_lines"]


@dataclass(eq=False, slots=True)
class VBridge:
    br_cfg: IdlRow | None
    """The Bridge row; None for a fake bridge."""
    name: str
    parent: VBridge | None
    vlan: int
    ports: list[VPort] = field(default_factory=list)
    children: dict[int, VBridge] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class VPort:
    port_cfg: IdlRow
    bridge: VBridge
    ifaces: list[VIface] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class VIface:
    iface_cfg: IdlRow
    port: VPort


class VsctlContext(Context):
    """The command context plus ovs-vsctl's bridge/port/interface cache."""

    def __init__(self, db: CtlSchema, idl: Idl, txn: Txn | None, symtab: SymbolTable | None,
                 log: Log, neoteric: list[Uuid]) -> None:
        super().__init__(db, idl, txn, symtab, log)
        self.ovs: IdlRow | None = None
        self.verified_ports = False
        self.cache_valid = False
        self.bridges: dict[str, VBridge] = {}
        self.ports: dict[str, VPort] = {}
        self.ifaces: dict[str, VIface] = {}
        self.neoteric = neoteric
        """Provisional uuids of the interfaces this run creates."""

    @property
    def root(self) -> IdlRow:
        assert self.ovs is not None
        return self.ovs

    def init_command(self) -> None:
        self.verified_ports = False

    def invalidate_cache(self) -> None:
        if self.cache_valid:
            self.cache_valid = False
            self.bridges, self.ports, self.ifaces = {}, {}, {}

    # -- helpers over rows ---------------------------------------------------------
    def name(self, row: IdlRow) -> str:
        value = self.read(row, "name").scalar_value()
        return value if isinstance(value, str) else ""

    def refs(self, row: IdlRow, column: str, table: str) -> list[IdlRow]:
        """The existing rows a reference column points to, in datum order."""
        out = []
        for uuid in self.read(row, column).keys:
            target = self.idl.get_row(table, str(uuid))
            if target is not None:
                out.append(target)
        return out

    def set_refs(self, row: IdlRow, column: str, rows: list[IdlRow]) -> None:
        self.txn.write(row, column, Datum.set_of(r.uuid for r in rows))

    def set_value(self, row: IdlRow, column: str, value: Atom | None) -> None:
        """Write a scalar, or clear an optional column with None."""
        datum = Datum(()) if value is None else Datum((value,))
        self.txn.write(row, column, datum)

    def expect_iface(self, row: IdlRow) -> None:
        self.neoteric.append(row.uuid)

    def to_string(self) -> str:
        """The command as typed, options first (``vsctl_context_to_string``)."""
        return escape_args([*shash_order(tuple(self.options)), *self.argv])

    # -- the cache -----------------------------------------------------------------
    def _add_bridge(self, br_cfg: IdlRow | None, name: str, parent: VBridge | None,
                    vlan: int) -> VBridge:
        br = VBridge(br_cfg, name, parent, vlan)
        if parent is not None:
            conflict = parent.children.get(vlan)
            if conflict is not None:
                self.log.warn("vsctl", f"{parent.name}: bridge has multiple VLAN bridges "
                              f"({name} and {conflict.name}) for VLAN {vlan}, but only one "
                              "is allowed")
            else:
                parent.children[vlan] = br
        self.bridges[name] = br
        return br

    def add_port_to_cache(self, parent: VBridge, port_cfg: IdlRow) -> VPort:
        tag = self.read(port_cfg, "tag").scalar_value()
        if isinstance(tag, int) and 0 <= tag <= 4095:
            vlan_bridge = parent.children.get(tag)
            if vlan_bridge is not None:
                parent = vlan_bridge
        port = VPort(port_cfg, parent)
        parent.ports.append(port)
        self.ports[self.name(port_cfg)] = port
        return port

    def add_iface_to_cache(self, port: VPort, iface_cfg: IdlRow) -> VIface:
        iface = VIface(iface_cfg, port)
        port.ifaces.append(iface)
        self.ifaces[self.name(iface_cfg)] = iface
        return iface

    def is_fake_bridge(self, port_cfg: IdlRow) -> bool:
        tag = self.read(port_cfg, "tag").scalar_value()
        return (self.read(port_cfg, "fake_bridge").scalar_value() is True
                and isinstance(tag, int) and 0 <= tag <= 4095)

    def populate_cache(self) -> None:
        if self.cache_valid:
            return
        self.cache_valid = True
        self.bridges, self.ports, self.ifaces = {}, {}, {}
        bridges: set[str] = set()
        ports: set[str] = set()
        all_bridges = self.refs(self.root, "bridges", "Bridge")
        for br_cfg in all_bridges:
            name = self.name(br_cfg)
            if name in bridges:
                self.log.warn("vsctl", f"{name}: database contains duplicate bridge name")
                continue
            bridges.add(name)
            br = self._add_bridge(br_cfg, name, None, 0)
            for port_cfg in self.refs(br_cfg, "ports", "Port"):
                pname = self.name(port_cfg)
                if pname in ports:
                    continue  # a duplicate port name: warned about below
                ports.add(pname)
                if self.is_fake_bridge(port_cfg) and pname not in bridges:
                    bridges.add(pname)
                    tag = self.read(port_cfg, "tag").scalar_value()
                    assert isinstance(tag, int)
                    self._add_bridge(None, pname, br, tag)
        bridges = set()
        for br_cfg in all_bridges:
            name = self.name(br_cfg)
            if name in bridges:
                continue
            bridges.add(name)
            br = self.bridges[name]
            for port_cfg in self.refs(br_cfg, "ports", "Port"):
                pname = self.name(port_cfg)
                port = self.ports.get(pname)
                if port is not None:
                    if port_cfg is port.port_cfg:
                        self.log.warn("vsctl", f"{pname}: port is in multiple bridges "
                                      f"({br.name} and {port.bridge.name})")
                    else:
                        self.log.warn("vsctl", f"{pname}: database contains duplicate "
                                      "port name")
                    continue
                if self.is_fake_bridge(port_cfg):
                    if pname in bridges:
                        continue
                    bridges.add(pname)
                port = self.add_port_to_cache(br, port_cfg)
                for iface_cfg in self.refs(port_cfg, "interfaces", "Interface"):
                    iname = self.name(iface_cfg)
                    iface = self.ifaces.get(iname)
                    if iface is not None:
                        if iface_cfg is iface.iface_cfg:
                            self.log.warn("vsctl", f"{iname}: interface is in multiple "
                                          f"ports ({self.name(iface.port.port_cfg)} and "
                                          f"{pname})")
                        else:
                            self.log.warn("vsctl", f"{iname}: database contains duplicate "
                                          "interface name")
                        continue
                    self.add_iface_to_cache(port, iface_cfg)

    def verify_ports(self) -> None:
        if self.verified_ports:
            return
        self.txn.verify(self.root, "bridges")
        for bridge in self.idl.table("Bridge"):
            self.txn.verify(bridge, "ports")
        for port in self.idl.table("Port"):
            self.txn.verify(port, "interfaces")
        self.verified_ports = True

    def check_conflicts(self, name: str, msg: str) -> None:
        self.verify_ports()
        if name in self.bridges:
            raise CtlFatal(f"{msg} because a bridge named {name} already exists")
        port = self.ports.get(name)
        if port is not None:
            raise CtlFatal(f"{msg} because a port named {name} already exists on bridge "
                           f"{port.bridge.name}")
        iface = self.ifaces.get(name)
        if iface is not None:
            raise CtlFatal(f"{msg} because an interface named {name} already exists on "
                           f"bridge {iface.port.bridge.name}")

    def find_bridge(self, name: str, must_exist: bool) -> VBridge | None:
        br = self.bridges.get(name)
        if must_exist and br is None:
            raise CtlFatal(f"no bridge named {name}")
        self.txn.verify(self.root, "bridges")
        return br

    def must_bridge(self, name: str) -> VBridge:
        br = self.find_bridge(name, True)
        assert br is not None
        return br

    def find_real_bridge(self, name: str) -> VBridge:
        br = self.must_bridge(name)
        if br.parent is not None:
            raise CtlFatal(f"{name} is a fake bridge")
        return br

    def find_port(self, name: str, must_exist: bool) -> VPort | None:
        port = self.ports.get(name)
        if port is not None and name == port.bridge.name:
            port = None
        if must_exist and port is None:
            raise CtlFatal(f"no port named {name}")
        self.verify_ports()
        return port

    def find_iface(self, name: str, must_exist: bool) -> VIface | None:
        iface = self.ifaces.get(name)
        if iface is not None and name == iface.port.bridge.name:
            iface = None
        if must_exist and iface is None:
            raise CtlFatal(f"no interface named {name}")
        self.verify_ports()
        return iface

    @staticmethod
    def real_cfg(br: VBridge) -> IdlRow:
        """The Bridge row holding ``br``'s ports (its parent's, for a fake bridge)."""
        row = br.parent.br_cfg if br.parent is not None else br.br_cfg
        assert row is not None
        return row

    # -- editing the tree ------------------------------------------------------------
    def bridge_insert_port(self, br: IdlRow, port: IdlRow) -> None:
        self.set_refs(br, "ports", [*self.refs(br, "ports", "Port"), port])

    def bridge_delete_port(self, br: IdlRow, port: IdlRow) -> None:
        self.set_refs(br, "ports", [p for p in self.refs(br, "ports", "Port") if p is not port])

    def del_port(self, port: VPort) -> None:
        self.bridge_delete_port(self.real_cfg(port.bridge), port.port_cfg)
        for iface in list(port.ifaces):
            self.del_cached_iface(iface)
        port.bridge.ports.remove(port)
        self.ports.pop(self.name(port.port_cfg), None)
        self.txn.delete(port.port_cfg)

    def del_cached_iface(self, iface: VIface) -> None:
        iface.port.ifaces.remove(iface)
        self.ifaces.pop(self.name(iface.iface_cfg), None)
        self.txn.delete(iface.iface_cfg)

    def del_bridge(self, br: VBridge) -> None:
        for child in list(br.children.values()):
            self.del_bridge(child)
        for port in list(br.ports):
            self.del_port(port)
        for fscs in self.rows("Flow_Sample_Collector_Set"):
            if br.br_cfg is not None and br.br_cfg.uuid in self.read(fscs, "bridge").keys:
                self.txn.delete(fscs)
        if br.parent is not None:
            br.parent.children.pop(br.vlan, None)
        if br.br_cfg is not None:
            self.txn.delete(br.br_cfg)
            self.set_refs(self.root, "bridges",
                          [b for b in self.refs(self.root, "bridges", "Bridge")
                           if b is not br.br_cfg])
        self.bridges.pop(br.name, None)

    def add_port(self, br_name: str, port_name: str, may_exist: bool, fake_iface: bool,
                 iface_names: list[str], settings: list[str]) -> None:
        if not port_name:
            raise CtlFatal("port name must not be empty string")
        if any(not name for name in iface_names):
            raise CtlFatal("interface name must not be empty string")
        self.populate_cache()
        if may_exist:
            existing = self.find_port(port_name, False)
            if existing is not None:
                want = sorted(iface_names)
                have = sorted(self.name(i) for i in
                              self.refs(existing.port_cfg, "interfaces", "Interface"))
                if existing.bridge.name != br_name:
                    raise CtlFatal(f'"{self.to_string()}" but {port_name} is actually '
                                   f"attached to bridge {existing.bridge.name}")
                if want != have:
                    raise CtlFatal(f'"{self.to_string()}" but {port_name} actually has '
                                   f"interface(s) {', '.join(have)}")
                return
        self.check_conflicts(port_name, f"cannot create a port named {port_name}")
        for name in iface_names:
            self.check_conflicts(name, f"cannot create an interface named {name}")
        bridge = self.must_bridge(br_name)
        ifaces = []
        for name in iface_names:
            iface = self.txn.insert("Interface")
            self.set_value(iface, "name", name)
            self.expect_iface(iface)
            ifaces.append(iface)
        port = self.txn.insert("Port")
        self.set_value(port, "name", port_name)
        self.set_refs(port, "interfaces", ifaces)
        self.set_value(port, "bond_fake_iface", fake_iface)
        if bridge.parent is not None:
            self.set_value(port, "tag", bridge.vlan)
        port_table = self.idl.table("Port")
        for setting in settings:
            set_column(self, port_table, port, setting, False)
        self.bridge_insert_port(self.real_cfg(bridge), port)
        vport = self.add_port_to_cache(bridge, port)
        for iface in ifaces:
            self.add_iface_to_cache(vport, iface)


# --- helpers shared by the commands ------------------------------------------

def as_vsctl(ctx: Context) -> VsctlContext:
    """The context of an ovs-vsctl command (the session builds only these)."""
    assert isinstance(ctx, VsctlContext)
    return ctx


def pre_get_info(ctx: Context) -> None:
    """What the cache reads: the bridge/port/interface tree and its names."""
    for table, column in (("Open_vSwitch", "bridges"), ("Bridge", "name"),
                          ("Bridge", "controller"), ("Bridge", "fail_mode"),
                          ("Bridge", "ports"), ("Port", "name"), ("Port", "fake_bridge"),
                          ("Port", "tag"), ("Port", "interfaces"), ("Interface", "name"),
                          ("Interface", "ofport"), ("Interface", "error")):
        ctx.add_column(table, column)


def sorted_lines(names: list[str]) -> str:
    """One name per line in byte order (OVS's ``svec_sort`` then print)."""
    return "".join(f"{n}\n" for n in sorted(names, key=lambda s: s.encode()))
