"""ovs-vsctl's management commands: controllers, fail modes, managers, SSL,
Auto Attach mappings, conntrack zone timeout policies and datapath capabilities.

Each is a ``pre_*``/``cmd_*`` pair as in ``utilities/ovs-vsctl.c``, working
on :class:`~pyovs.cli.vsctl_cache.VsctlContext`; the command table is in
:mod:`pyovs.cli.vsctl_cmds`.  Targets of controllers and managers are
checked as OVS does: an unknown connection type is only a warning.
"""

from __future__ import annotations

from pyovs.ctl.engine import Context, CtlFatal
from pyovs.ctl.idl import IdlRow
from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.ovsorder import shash_order
from pyovs.ovsdb.table_format import c_atoi, leading_int

from .vsctl_cache import VsctlContext, as_vsctl, pre_get_info, sorted_lines

# --- controllers and fail modes -------------------------------------------------

def pre_controller(ctx: Context) -> None:
    pre_get_info(ctx)
    ctx.add_column("Controller", "target")
    ctx.add_column("Controller", "inactivity_probe")


def _verify_controllers(v: VsctlContext, br_cfg: IdlRow) -> list[IdlRow]:
    v.txn.verify(br_cfg, "controller")
    controllers = v.refs(br_cfg, "controller", "Controller")
    for controller in controllers:
        v.txn.verify(controller, "target")
    return controllers


def _target(v: VsctlContext, row: IdlRow) -> str:
    value = v.read(row, "target").scalar_value()
    return value if isinstance(value, str) else ""


def cmd_get_controller(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    br = v.must_bridge(v.argv[1])
    controllers = _verify_controllers(v, v.real_cfg(br))
    v.put(sorted_lines([_target(v, c) for c in controllers]))


def cmd_del_controller(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    br_cfg = v.real_cfg(v.find_real_bridge(v.argv[1]))
    controllers = _verify_controllers(v, br_cfg)
    if controllers:
        for controller in controllers:
            v.txn.delete(controller)
        v.set_refs(br_cfg, "controller", [])


_VCONN_TYPES = ("tcp", "unix", "ssl", "ptcp", "punix", "pssl")


def _check_target(v: VsctlContext, target: str) -> None:
    method, sep, _ = target.partition(":")
    if not sep or method not in _VCONN_TYPES:
        v.log.warn("vsctl", f'target type "{target}" is possibly erroneous')


def _insert_targets(v: VsctlContext, table: str, targets: list[str]) -> list[IdlRow]:
    probe = v.option("--inactivity-probe")
    rows = []
    for target in targets:
        _check_target(v, target)
        row = v.txn.insert(table)
        v.set_value(row, "target", target)
        if probe is not None:
            v.set_value(row, "inactivity_probe", c_atoi(probe))
        rows.append(row)
    return rows


def cmd_set_controller(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    br_cfg = v.real_cfg(v.find_real_bridge(v.argv[1]))
    for controller in _verify_controllers(v, br_cfg):
        v.txn.delete(controller)
    v.set_refs(br_cfg, "controller", _insert_targets(v, "Controller", v.argv[2:]))


def cmd_get_fail_mode(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    br_cfg = v.real_cfg(v.must_bridge(v.argv[1]))
    v.txn.verify(br_cfg, "fail_mode")
    mode = v.read(br_cfg, "fail_mode").scalar_value()
    if isinstance(mode, str) and mode:
        v.put(f"{mode}\n")


def cmd_del_fail_mode(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    v.set_value(v.real_cfg(v.find_real_bridge(v.argv[1])), "fail_mode", None)


def cmd_set_fail_mode(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.populate_cache()
    br = v.find_real_bridge(v.argv[1])
    mode = v.argv[2]
    if mode not in ("standalone", "secure"):
        raise CtlFatal('fail-mode must be "standalone" or "secure"')
    v.set_value(v.real_cfg(br), "fail_mode", mode)


# --- managers -------------------------------------------------------------------

def pre_manager(ctx: Context) -> None:
    ctx.add_column("Open_vSwitch", "manager_options")
    ctx.add_column("Manager", "target")
    ctx.add_column("Manager", "inactivity_probe")


def _verify_managers(v: VsctlContext) -> list[IdlRow]:
    v.txn.verify(v.root, "manager_options")
    managers = v.refs(v.root, "manager_options", "Manager")
    for manager in managers:
        v.txn.verify(manager, "target")
    return managers


def cmd_get_manager(ctx: Context) -> None:
    v = as_vsctl(ctx)
    v.put(sorted_lines(sorted({_target(v, m) for m in _verify_managers(v)})))


def _delete_managers(v: VsctlContext, managers: list[IdlRow]) -> None:
    for manager in managers:
        v.txn.delete(manager)
    v.set_refs(v.root, "manager_options", [])


def cmd_del_manager(ctx: Context) -> None:
    v = as_vsctl(ctx)
    _delete_managers(v, _verify_managers(v))


def cmd_set_manager(ctx: Context) -> None:
    v = as_vsctl(ctx)
    _delete_managers(v, _verify_managers(v))
    v.set_refs(v.root, "manager_options", _insert_targets(v, "Manager", v.argv[1:]))


# --- SSL ------------------------------------------------------------------------

_SSL_COLUMNS = ("private_key", "certificate", "ca_cert", "bootstrap_ca_cert")


def pre_cmd_get_ssl(ctx: Context) -> None:
    ctx.add_column("Open_vSwitch", "ssl")
    for column in _SSL_COLUMNS:
        ctx.add_column("SSL", column)


def pre_cmd_ssl(ctx: Context) -> None:
    ctx.add_column("Open_vSwitch", "ssl")


def _ssl(v: VsctlContext) -> IdlRow | None:
    rows = v.refs(v.root, "ssl", "SSL")
    return rows[0] if rows else None


def cmd_get_ssl(ctx: Context) -> None:
    v = as_vsctl(ctx)
    ssl = _ssl(v)
    v.txn.verify(v.root, "ssl")
    if ssl is None:
        return
    for column in _SSL_COLUMNS:
        v.txn.verify(ssl, column)

    def text(column: str) -> str:
        value = v.read(ssl, column).scalar_value()
        return value if isinstance(value, str) else ""

    bootstrap = v.read(ssl, "bootstrap_ca_cert").scalar_value() is True
    v.put(f"Private key: {text('private_key')}\nCertificate: {text('certificate')}\n"
          f"CA Certificate: {text('ca_cert')}\nBootstrap: "
          f"{'true' if bootstrap else 'false'}\n")


def cmd_del_ssl(ctx: Context) -> None:
    v = as_vsctl(ctx)
    ssl = _ssl(v)
    if ssl is not None:
        v.txn.verify(v.root, "ssl")
        v.txn.delete(ssl)
        v.set_refs(v.root, "ssl", [])


def cmd_set_ssl(ctx: Context) -> None:
    v = as_vsctl(ctx)
    ssl = _ssl(v)
    v.txn.verify(v.root, "ssl")
    if ssl is not None:
        v.txn.delete(ssl)
    ssl = v.txn.insert("SSL")
    v.set_value(ssl, "private_key", v.argv[1])
    v.set_value(ssl, "certificate", v.argv[2])
    v.set_value(ssl, "ca_cert", v.argv[3])
    v.set_value(ssl, "bootstrap_ca_cert", v.has("--bootstrap"))
    v.set_refs(v.root, "ssl", [ssl])


# --- Auto Attach ------------------------------------------------------------------

def pre_aa_mapping(ctx: Context) -> None:
    pre_get_info(ctx)
    ctx.add_column("Bridge", "auto_attach")
    ctx.add_column("AutoAttach", "mappings")


def _strtoull_arg(s: str) -> int:
    """``strtoull(s, &end, 10)``, refusing only a string with no digits at all."""
    sign, digits = leading_int(s)
    if not digits:
        raise CtlFatal(f"Invalid argument {s}")
    value = (sign * int(digits)) % 2**64
    return value - 2**64 if value >= 2**63 else value


def _aa_bridge(v: VsctlContext) -> tuple[IdlRow, int, int]:
    isid = _strtoull_arg(v.argv[2]) if v.argv[0] != "get-aa-mapping" else 0
    vlan = _strtoull_arg(v.argv[3]) if v.argv[0] != "get-aa-mapping" else 0
    v.populate_cache()
    br = v.must_bridge(v.argv[1])
    return v.real_cfg(br), isid, vlan


def cmd_add_aa_mapping(ctx: Context) -> None:
    v = as_vsctl(ctx)
    br_cfg, isid, vlan = _aa_bridge(v)
    aas = v.refs(br_cfg, "auto_attach", "AutoAttach")
    if aas:
        aa = aas[0]
    else:
        aa = v.txn.insert("AutoAttach")
        v.set_refs(br_cfg, "auto_attach", [aa])
    mappings = v.read(aa, "mappings").as_dict()
    mappings.setdefault(isid, vlan)
    v.txn.write(aa, "mappings", Datum.map_of(mappings))


def cmd_del_aa_mapping(ctx: Context) -> None:
    v = as_vsctl(ctx)
    br_cfg, isid, vlan = _aa_bridge(v)
    for aa in v.refs(br_cfg, "auto_attach", "AutoAttach"):
        mappings = v.read(aa, "mappings").as_dict()
        if mappings.get(isid) == vlan:
            kept = {k: m for k, m in mappings.items() if k != isid and m != vlan}
            v.txn.write(aa, "mappings", Datum.map_of(kept))


def cmd_get_aa_mapping(ctx: Context) -> None:
    v = as_vsctl(ctx)
    br_cfg, _, _ = _aa_bridge(v)
    v.txn.verify(br_cfg, "auto_attach")
    for aa in v.refs(br_cfg, "auto_attach", "AutoAttach"):
        v.txn.verify(aa, "mappings")
        mappings = v.read(aa, "mappings")
        for k, m in zip(mappings.keys, mappings.values or (), strict=True):
            v.put(f"{k} {m}\n")


# --- conntrack zones and datapath capabilities -------------------------------------

def pre_get_zone(ctx: Context) -> None:
    for table, column in (("Open_vSwitch", "datapaths"), ("Datapath", "ct_zones"),
                          ("CT_Zone", "timeout_policy"), ("CT_Timeout_Policy", "timeouts")):
        ctx.add_column(table, column)


def pre_get_dp_cap(ctx: Context) -> None:
    ctx.add_column("Open_vSwitch", "datapaths")
    ctx.add_column("Datapath", "capabilities")


def _find_datapath(v: VsctlContext, name: str) -> IdlRow | None:
    uuid = v.read(v.root, "datapaths").as_dict().get(name)
    return v.idl.get_row("Datapath", str(uuid)) if uuid is not None else None


def _zone_id(text: str) -> int:
    """``ovs_scan(s, "zone=%"SCNi64)``: 0 when the text does not match."""
    if not text.startswith("zone="):
        return 0
    body = text[5:].lstrip()
    try:
        return int(body, 0) if body else 0
    except ValueError:
        return c_atoi(body)


def _find_zone(v: VsctlContext, dp: IdlRow, zone_id: int) -> IdlRow | None:
    uuid = v.read(dp, "ct_zones").as_dict().get(zone_id)
    return v.idl.get_row("CT_Zone", str(uuid)) if uuid is not None else None


def _u64(n: int) -> int:
    return n % 2**64


def cmd_add_zone_tp(ctx: Context) -> None:
    v = as_vsctl(ctx)
    zone_id = _zone_id(v.argv[2])
    dp = _find_datapath(v, v.argv[1])
    if dp is None:
        raise CtlFatal(f"datapath {v.argv[1]} does not exist")
    zone = _find_zone(v, dp, zone_id)
    if zone is not None and not v.has("--may-exist"):
        raise CtlFatal(f"zone id {_u64(zone_id)} already exists")
    timeouts: dict[str, int] = {}
    for policy in v.argv[3:]:
        key, _, value = policy.replace(":", "=", 1).partition("=")
        timeouts[key] = c_atoi(value)
    wanted = Datum.map_of(timeouts)
    tp = next((row for row in v.rows("CT_Timeout_Policy")
               if v.read(row, "timeouts") == wanted), None)
    if tp is None:
        tp = v.txn.insert("CT_Timeout_Policy")
        v.txn.write(tp, "timeouts", wanted)
    if zone is None:
        zone = v.txn.insert("CT_Zone")
        v.set_refs(zone, "timeout_policy", [tp])
        v.txn.write_partial_map(dp, "ct_zones", Datum((zone_id,), (zone.uuid,)))
    else:
        v.set_refs(zone, "timeout_policy", [tp])


def cmd_del_zone_tp(ctx: Context) -> None:
    v = as_vsctl(ctx)
    zone_id = _zone_id(v.argv[2])
    dp = _find_datapath(v, v.argv[1])
    if dp is None:
        raise CtlFatal(f"datapath {v.argv[1]} does not exist")
    zone = _find_zone(v, dp, zone_id)
    if zone is None and not v.has("--if-exists"):
        raise CtlFatal(f"zone id {_u64(zone_id)} does not exist")
    if zone is not None:
        v.txn.delete_partial_map(dp, "ct_zones", Datum((zone_id,)))


def cmd_list_zone_tp(ctx: Context) -> None:
    v = as_vsctl(ctx)
    dp = _find_datapath(v, v.argv[1])
    if dp is None:
        raise CtlFatal(f"datapath: {v.argv[1]} record not found")
    zones = v.read(dp, "ct_zones")
    for zone_id, uuid in zip(zones.keys, zones.values or (), strict=True):
        assert isinstance(zone_id, int)
        line = f"Zone:{_u64(zone_id)}, Timeout Policies: "
        zone = v.idl.get_row("CT_Zone", str(uuid))
        tps = v.refs(zone, "timeout_policy", "CT_Timeout_Policy") if zone else []
        if tps:
            timeouts = v.read(tps[0], "timeouts")
            line += "".join(f"{k}={_u64(int(t))} " for k, t in
                            zip(timeouts.keys, timeouts.values or (), strict=True))
        else:
            line += "system default"
        v.put(line.rstrip(" ") + "\n")


def cmd_list_dp_cap(ctx: Context) -> None:
    v = as_vsctl(ctx)
    dp = _find_datapath(v, v.argv[1])
    if dp is None:
        raise CtlFatal(f'datapath "{v.argv[1]}" record not found')
    caps = {str(k): c for k, c in v.read(dp, "capabilities").as_dict().items()}
    # An smap iterates in hash order.
    text = "".join(f"{k}={caps[k]} " for k in shash_order(tuple(caps)))
    v.put(text.rstrip(" ") + "\n")
