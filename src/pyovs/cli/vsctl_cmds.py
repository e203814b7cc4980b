"""ovs-vsctl's own commands and its command table.

Each command is a ``pre_*``/``cmd_*`` pair as in OVS: ``init`` and
``emer-reset``, bridges (``add-br`` with fake bridges, ``del-br``,
``list-br``...), ports and bonds, interfaces; the management commands
(controllers, managers, SSL...) are in :mod:`pyovs.cli.vsctl_mgmt`.  They
work on the cache of :class:`~pyovs.cli.vsctl_cache.VsctlContext`; their
prerequisites register exactly the columns OVS's do, so the replica holds
what ovs-vsctl's would.  :data:`VSCTL_COMMANDS` is the command table, in
OVS's registration order.
"""

from __future__ import annotations

from pyovs.ctl.engine import INT_MAX, Callback, CommandSyntax, Context, CtlFatal, Mode
from pyovs.ovsdb.data import Datum

from .vsctl_cache import as_vsctl, c_atoi, pre_get_info, sorted_lines
from .vsctl_mgmt import (
    cmd_add_aa_mapping,
    cmd_add_zone_tp,
    cmd_del_aa_mapping,
    cmd_del_controller,
    cmd_del_fail_mode,
    cmd_del_manager,
    cmd_del_ssl,
    cmd_del_zone_tp,
    cmd_get_aa_mapping,
    cmd_get_controller,
    cmd_get_fail_mode,
    cmd_get_manager,
    cmd_get_ssl,
    cmd_list_dp_cap,
    cmd_list_zone_tp,
    cmd_set_controller,
    cmd_set_fail_mode,
    cmd_set_manager,
    cmd_set_ssl,
    pre_aa_mapping,
    pre_cmd_get_ssl,
    pre_cmd_ssl,
    pre_controller,
    pre_get_dp_cap,
    pre_get_zone,
    pre_manager,
)

__all__ = ["VSCTL_COMMANDS"]


# --- Open vSwitch -------------------------------------------------------------

def cmd_init(ctx: Context) -> None:
    """Nothing: every run creates the root row if the database lacks one."""


def pre_cmd_emer_reset(ctx: Context) -> None:
    for table, column in (("Open_vSwitch", "manager_options"), ("Open_vSwitch", "ssl"),
                          ("Bridge", "controller"), ("Bridge", "fail_mode"),
                          ("Bridge", "mirrors"), ("Bridge", "netflow"), ("Bridge", "sflow"),
                          ("Bridge", "ipfix"), ("Bridge", "flood_vlans"),
                          ("Bridge", "other_config"), ("Port", "other_config"),
                          ("Interface", "ingress_policing_rate"),
                          ("Interface", "ingress_policing_burst")):
        ctx.add_column(table, column)


def cmd_emer_reset(ctx: Context) -> None:
    v = as_vsctl(ctx)
    txn = v.txn
    v.set_refs(v.root, "manager_options", [])
    v.set_refs(v.root, "ssl", [])
    for br in v.rows("Bridge"):
        for column in ("controller", "fail_mode", "mirrors", "netflow", "sflow", "ipfix",
                       "flood_vlans"):
            txn.write(br, column, Datum.empty(br.table.column(column).type))
        hwaddr = v.read(br, "other_config").as_dict().get("hwaddr")
        txn.write(br, "other_config",
                  Datum.map_of({"hwaddr": hwaddr} if hwaddr is not None else {}))
    for port in v.rows("Port"):
        txn.write(port, "other_config", Datum.map_of({}))
    for iface in v.rows("Interface"):
        txn.write(iface, "ingress_policing_rate", Datum((0,)))
        txn.write(iface, "ingress_policing_burst", Datum((0,)))
    for table in ("Mirror", "Controller", "Manager", "NetFlow", "SSL", "sFlow", "IPFIX",
                  "Flow_Sample_Collector_Set"):
        for row in v.rows(table):
            txn.delete(row)
    v.invalidate_cache()


# --- bridges ------------------------------------------------------------------

def cmd_add_br(ctx: Context) -> None:
    v = as_vsctl(ctx)
    may_exist = v.has("--may-exist")
    br_name = v.argv[1]
    if not br_name:
        raise CtlFatal("bridge name must not be empty string")
    parent_name: str | None = None
    vlan = 0
    if v.argc == 4:
        parent_name = v.argv[2]
        vlan = c_atoi(v.argv[3])
        if not 0 <= vlan <= 4095:
            raise CtlFatal(f"{v.argv[0]}: vlan must be between 0 and 4095")
    elif v.argc != 2:
        raise CtlFatal(f"'{v.argv[0]}' command takes exactly 1 or 3 arguments")
    v.populate_cache()
    if may_exist:
        br = v.find_bridge(br_name, False)
        if br is not None:
            if parent_name is None:
                if br.parent is not None:
                    raise CtlFatal(f'"--may-exist add-br {br_name}" but {br_name} is a VLAN '
                                   f"bridge for VLAN {br.vlan}")
            else:
                head = f'"--may-exist add-br {br_name} {parent_name} {vlan}" but {br_name}'
                if br.parent is None:
                    raise CtlFatal(f"{head} is not a VLAN bridge")
                if br.parent.name != parent_name:
                    raise CtlFatal(f"{head} has the wrong parent {br.parent.name}")
                if br.vlan != vlan:
                    raise CtlFatal(f"{head} is a VLAN bridge for the wrong VLAN {br.vlan}")
            return
    v.check_conflicts(br_name, f"cannot create a bridge named {br_name}")
    txn = v.txn
    if parent_name is None:
        iface = txn.insert("Interface")
        v.set_value(iface, "name", br_name)
        v.set_value(iface, "type", "internal")
        port = txn.insert("Port")
        v.set_value(port, "name", br_name)
        v.set_refs(port, "interfaces", [iface])
        bridge = txn.insert("Bridge")
        v.set_value(bridge, "name", br_name)
        v.set_refs(bridge, "ports", [port])
        v.set_refs(v.root, "bridges", [*v.refs(v.root, "bridges", "Bridge"), bridge])
    else:
        parent = v.find_bridge(parent_name, False)
        if parent is not None and parent.parent is not None:
            raise CtlFatal("cannot create bridge with fake bridge as parent")
        if parent is None:
            raise CtlFatal(f"parent bridge {parent_name} does not exist")
        conflict = parent.children.get(vlan)
        if conflict is not None:
            raise CtlFatal(f"bridge {parent_name} already has a child VLAN bridge "
                           f"{conflict.name} on VLAN {vlan}")
        iface = txn.insert("Interface")
        v.set_value(iface, "name", br_name)
        v.set_value(iface, "type", "internal")
        port = txn.insert("Port")
        v.set_value(port, "name", br_name)
        v.set_refs(port, "interfaces", [iface])
        v.set_value(port, "fake_bridge", True)
        v.set_value(port, "tag", vlan)
        v.bridge_insert_port(v.real_cfg(parent), port)
    v.expect_iface(iface)
    v.invalidate_cache()


def cmd_del_br(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    bridge = v.find_bridge(v.argv[1], not v.has("--if-exists"))
    if bridge is not None:
        v.del_bridge(bridge)


def cmd_list_br(ctx: Context) -> None:
    v = as_vsctl(ctx)
    real, fake = v.has("--real"), v.has("--fake")
    if not real and not fake:
        real = fake = True
    v.populate_cache()
    v.put(sorted_lines([br.name for br in v.bridges.values()
                         if (fake if br.parent is not None else real)]))


def cmd_br_exists(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    if v.find_bridge(v.argv[1], False) is None:
        raise CtlFatal(None, status=2)


def pre_cmd_br_external_id(ctx: Context) -> None:
    pre_get_info(ctx)
    ctx.add_column("Bridge", "external_ids")
    ctx.add_column("Port", "external_ids")


def _set_external_id(old: Datum, key: str, value: str | None) -> Datum:
    pairs = old.as_dict()
    if value is not None:
        pairs[key] = value
    else:
        pairs.pop(key, None)
    return Datum.map_of(pairs)


def cmd_br_set_external_id(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    bridge = v.must_bridge(v.argv[1])
    value = v.argv[3] if v.argc >= 4 else None
    if bridge.br_cfg is not None:
        row, key = bridge.br_cfg, v.argv[2]
    else:
        row, key = v.ports[v.argv[1]].port_cfg, f"fake-bridge-{v.argv[2]}"
    new = _set_external_id(v.read(row, "external_ids"), key, value)
    v.txn.verify(row, "external_ids")
    v.txn.write(row, "external_ids", new)


def _get_external_id(ids: Datum, prefix: str, key: str | None) -> str:
    pairs = ids.as_dict()
    if key is not None:
        value = pairs.get(prefix + key)
        return f"{value}\n" if value is not None else ""
    return "".join(f"{k[len(prefix):]}={val}\n" for k, val in sorted(
        pairs.items(), key=lambda kv: str(kv[0]).encode())
        if isinstance(k, str) and k.startswith(prefix))


def cmd_br_get_external_id(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    bridge = v.must_bridge(v.argv[1])
    key = v.argv[2] if v.argc >= 3 else None
    if bridge.br_cfg is not None:
        v.txn.verify(bridge.br_cfg, "external_ids")
        v.put(_get_external_id(v.read(bridge.br_cfg, "external_ids"), "", key))
    else:
        port_cfg = v.ports[v.argv[1]].port_cfg
        v.txn.verify(port_cfg, "external_ids")
        v.put(_get_external_id(v.read(port_cfg, "external_ids"), "fake-bridge-", key))


def cmd_br_to_vlan(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    v.put(f"{v.must_bridge(v.argv[1]).vlan}\n")


def cmd_br_to_parent(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    bridge = v.must_bridge(v.argv[1])
    v.put(f"{(bridge.parent or bridge).name}\n")


# --- ports and bonds ------------------------------------------------------------

def cmd_list_ports(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    br = v.must_bridge(v.argv[1])
    v.txn.verify(v.real_cfg(br), "ports")
    v.put(sorted_lines([v.name(p.port_cfg) for p in br.ports
                         if v.name(p.port_cfg) != br.name]))


def cmd_add_port(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.add_port(v.argv[1], v.argv[2], v.has("--may-exist"), False, [v.argv[2]], v.argv[3:])


def cmd_add_bond(ctx: Context) -> None:
    v = as_vsctl(ctx)
    n_ifaces = v.argc - 3
    for i in range(3, v.argc):
        if "=" in v.argv[i]:
            n_ifaces = i - 3
            break
    if n_ifaces < 2:
        raise CtlFatal(f"add-bond requires at least 2 interfaces, but only {n_ifaces} were "
                       "specified")
    v.add_port(v.argv[1], v.argv[2], v.has("--may-exist"), v.has("--fake-iface"),
               v.argv[3:3 + n_ifaces], v.argv[3 + n_ifaces:])


def cmd_add_bond_iface(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    port = v.find_port(v.argv[1], True)
    assert port is not None
    iface_name = v.argv[2]
    if v.has("--may-exist"):
        iface = v.find_iface(iface_name, False)
        if iface is not None:
            if iface.port is port:
                return
            raise CtlFatal(f'"{v.to_string()}" but {iface_name} is actually attached to '
                           f"port {v.name(iface.port.port_cfg)}")
    v.check_conflicts(iface_name, f"cannot create an interface named {iface_name}")
    row = v.txn.insert("Interface")
    v.set_value(row, "name", iface_name)
    v.txn.write_partial_set(port.port_cfg, "interfaces", Datum((row.uuid,)))
    v.expect_iface(row)
    v.add_iface_to_cache(port, row)


def cmd_del_bond_iface(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    iface_name = v.argv[-1]
    iface = v.find_iface(iface_name, not v.has("--if-exists"))
    if iface is None:
        return
    if v.argc > 2:
        port = v.find_port(v.argv[1], True)
        if iface.port is not port:
            raise CtlFatal(f"port {v.argv[1]} does not have an interface {iface_name}")
    if len(iface.port.ifaces) < 2:
        raise CtlFatal(f"cannot delete last interface from port "
                       f"{v.name(iface.port.port_cfg)}")
    v.txn.delete_partial_set(iface.port.port_cfg, "interfaces", Datum((iface.iface_cfg.uuid,)))
    v.del_cached_iface(iface)


def cmd_del_port(ctx: Context) -> None:
    v = as_vsctl(ctx)
    must_exist = not v.has("--if-exists")
    target = v.argv[-1]
    v.populate_cache()
    if v.find_bridge(target, False) is not None:
        if must_exist:
            raise CtlFatal(f"cannot delete port {target} because it is the local port for "
                           f"bridge {target} (deleting this port requires deleting the "
                           "entire bridge)")
        port = None
    elif not v.has("--with-iface"):
        port = v.find_port(target, must_exist)
    else:
        port = v.find_port(target, False)
        if port is None:
            iface = v.find_iface(target, False)
            if iface is not None:
                port = iface.port
        if must_exist and port is None:
            raise CtlFatal(f"no port or interface named {target}")
    if port is None:
        return
    if v.argc == 3:
        bridge = v.must_bridge(v.argv[1])
        if port.bridge is not bridge:
            if port.bridge.parent is bridge:
                raise CtlFatal(f"bridge {v.argv[1]} does not have a port {v.argv[2]} "
                               f"(although its child bridge {port.bridge.name} does)")
            raise CtlFatal(f"bridge {v.argv[1]} does not have a port {v.argv[2]}")
    v.del_port(port)


def cmd_port_to_br(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    port = v.find_port(v.argv[1], True)
    assert port is not None
    v.put(f"{port.bridge.name}\n")


# --- interfaces -----------------------------------------------------------------

def cmd_list_ifaces(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    br = v.must_bridge(v.argv[1])
    v.verify_ports()
    v.put(sorted_lines([v.name(i.iface_cfg) for p in br.ports for i in p.ifaces
                         if v.name(i.iface_cfg) != br.name]))


def cmd_iface_to_br(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    iface = v.find_iface(v.argv[1], True)
    assert iface is not None
    v.put(f"{iface.port.bridge.name}\n")


def _c(name: str, lo: int, hi: int, args: str, pre: Callback | None, run: Callback,
       options: str, mode: Mode) -> CommandSyntax:
    return CommandSyntax(name, lo, hi, args, pre, run, None, options, mode)


RO, RW = Mode.RO, Mode.RW

VSCTL_COMMANDS: tuple[CommandSyntax, ...] = (
    _c("init", 0, 0, "", None, cmd_init, "", RW),
    _c("add-br", 1, 3, "NEW-BRIDGE [PARENT] [NEW-VLAN]", pre_get_info, cmd_add_br,
       "--may-exist", RW),
    _c("del-br", 1, 1, "BRIDGE", pre_get_info, cmd_del_br, "--if-exists", RW),
    _c("list-br", 0, 0, "", pre_get_info, cmd_list_br, "--real,--fake", RO),
    _c("br-exists", 1, 1, "BRIDGE", pre_get_info, cmd_br_exists, "", RO),
    _c("br-to-vlan", 1, 1, "BRIDGE", pre_get_info, cmd_br_to_vlan, "", RO),
    _c("br-to-parent", 1, 1, "BRIDGE", pre_get_info, cmd_br_to_parent, "", RO),
    _c("br-set-external-id", 2, 3, "BRIDGE KEY [VALUE]", pre_cmd_br_external_id,
       cmd_br_set_external_id, "", RW),
    _c("br-get-external-id", 1, 2, "BRIDGE [KEY]", pre_cmd_br_external_id,
       cmd_br_get_external_id, "", RO),
    _c("list-ports", 1, 1, "BRIDGE", pre_get_info, cmd_list_ports, "", RO),
    _c("add-port", 2, INT_MAX, "BRIDGE NEW-PORT [COLUMN[:KEY]=VALUE]...", pre_get_info,
       cmd_add_port, "--may-exist", RW),
    _c("del-port", 1, 2, "[BRIDGE] PORT|IFACE", pre_get_info, cmd_del_port,
       "--if-exists,--with-iface", RW),
    _c("port-to-br", 1, 1, "PORT", pre_get_info, cmd_port_to_br, "", RO),
    _c("add-bond", 4, INT_MAX, "BRIDGE BOND IFACE... [COLUMN[:KEY]=VALUE]...",
       pre_get_info, cmd_add_bond, "--may-exist,--fake-iface", RW),
    _c("add-bond-iface", 2, 2, "BOND IFACE", pre_get_info, cmd_add_bond_iface,
       "--may-exist", RW),
    _c("del-bond-iface", 1, 2, "[BOND] IFACE", pre_get_info, cmd_del_bond_iface,
       "--if-exists", RW),
    _c("list-ifaces", 1, 1, "BRIDGE", pre_get_info, cmd_list_ifaces, "", RO),
    _c("iface-to-br", 1, 1, "IFACE", pre_get_info, cmd_iface_to_br, "", RO),
    _c("get-controller", 1, 1, "BRIDGE", pre_controller, cmd_get_controller, "", RO),
    _c("del-controller", 1, 1, "BRIDGE", pre_controller, cmd_del_controller, "", RW),
    _c("set-controller", 1, INT_MAX, "BRIDGE TARGET...", pre_controller,
       cmd_set_controller, "--inactivity-probe=", RW),
    _c("get-fail-mode", 1, 1, "BRIDGE", pre_get_info, cmd_get_fail_mode, "", RO),
    _c("del-fail-mode", 1, 1, "BRIDGE", pre_get_info, cmd_del_fail_mode, "", RW),
    _c("set-fail-mode", 2, 2, "BRIDGE MODE", pre_get_info, cmd_set_fail_mode, "", RW),
    _c("get-manager", 0, 0, "", pre_manager, cmd_get_manager, "", RO),
    _c("del-manager", 0, 0, "", pre_manager, cmd_del_manager, "", RW),
    _c("set-manager", 1, INT_MAX, "TARGET...", pre_manager, cmd_set_manager,
       "--inactivity-probe=", RW),
    _c("get-ssl", 0, 0, "", pre_cmd_get_ssl, cmd_get_ssl, "", RO),
    _c("del-ssl", 0, 0, "", pre_cmd_ssl, cmd_del_ssl, "", RW),
    _c("set-ssl", 3, 3, "PRIVATE-KEY CERTIFICATE CA-CERT", pre_cmd_ssl, cmd_set_ssl,
       "--bootstrap", RW),
    _c("add-aa-mapping", 3, 3, "BRIDGE ARG ARG", pre_aa_mapping, cmd_add_aa_mapping, "", RW),
    _c("del-aa-mapping", 3, 3, "BRIDGE ARG ARG", pre_aa_mapping, cmd_del_aa_mapping, "", RW),
    _c("get-aa-mapping", 1, 1, "BRIDGE", pre_aa_mapping, cmd_get_aa_mapping, "", RO),
    _c("emer-reset", 0, 0, "", pre_cmd_emer_reset, cmd_emer_reset, "", RW),
    _c("add-zone-tp", 3, INT_MAX, "", pre_get_zone, cmd_add_zone_tp, "--may-exist", RW),
    _c("del-zone-tp", 2, 2, "", pre_get_zone, cmd_del_zone_tp, "--if-exists", RW),
    _c("list-zone-tp", 1, 1, "", pre_get_zone, cmd_list_zone_tp, "", RO),
    _c("list-dp-cap", 1, 1, "", pre_get_dp_cap, cmd_list_dp_cap, "", RO),
)
"""ovs-vsctl's commands, registered after the database commands and ``show``."""
