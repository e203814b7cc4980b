"""pyovs-vsctl against the real ovs-vsctl, side by side.

Every case is a sequence of command lines.  It runs once through the real
``/usr/bin/ovs-vsctl`` and once through ``pyovs-vsctl``, each against its own
fresh ``pyovsdb-server`` database, and the two must agree on every exit
status, every byte of standard output and standard error, and on the whole
database afterwards (see ``vsctl_harness`` for what is normalised: UUIDs,
the tool's name, log timestamps, hash-ordered output).

The real tool's answers are also kept as goldens
(``ovsdb_cases/vsctl.golden.json``), so pyovs-vsctl is still checked where
the real Open vSwitch is not installed; they are rewritten with
``PYOVS_REGEN_GOLDEN=1 .venv/bin/pytest tests/interop/test_vsctl_differential.py``.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vsctl_harness import JOIN, PYOVS_VSCTL, REAL_VSCTL, Step, run_sequence, step

import peers

pytestmark = pytest.mark.interop

GOLDEN = Path(__file__).resolve().parent / "ovsdb_cases" / "vsctl.golden.json"
REGEN_ENV = "PYOVS_REGEN_GOLDEN"

INIT = step("init")
BRIDGES = [INIT, step("add-br", "br0"), step("add-port", "br0", "p1"),
           step("add-port", "br0", "p2")]

CASES: dict[str, list[Step]] = {
    "init_and_show": [
        step("show"), INIT, step("show"), step("list", "Open_vSwitch"),
        step("get", "Open_vSwitch", ".", "next_cfg", "cur_cfg", "bridges"),
    ],
    "bridges": [
        INIT, step("add-br", "br0"), step("add-br", "br1"), step("list-br"),
        step("br-exists", "br0"), step("br-exists", "nosuch"),
        step("add-br", "br0"), step("--may-exist", "add-br", "br0"),
        step("add-br", ""), step("add-br", "br2", "br0"),
        step("del-br", "nosuch"), step("--if-exists", "del-br", "nosuch"),
        step("del-br", "br1"), step("list-br"), step("show"),
        step("br-to-vlan", "br0"), step("br-to-parent", "br0"),
        step("br-to-vlan", "nosuch"),
    ],
    "fake_bridges": [
        INIT, step("add-br", "br0"), step("add-br", "br1", "br0", "10"),
        step("add-br", "br2", "br0", "4096"), step("add-br", "br2", "br0", "-1"),
        step("add-br", "br3", "nosuch", "5"), step("add-br", "br3", "br1", "5"),
        step("add-br", "br3", "br0", "10"),
        step("--may-exist", "add-br", "br1", "br0", "10"),
        step("--may-exist", "add-br", "br1", "br0", "11"),
        step("--may-exist", "add-br", "br1"), step("--may-exist", "add-br", "br0", "br1", "3"),
        step("--may-exist", "add-br", "br1", "br9", "10"),
        step("list-br"), step("list-br", "--real"), step("--real", "list-br"),
        step("--fake", "list-br"), step("br-to-vlan", "br1"), step("br-to-parent", "br1"),
        step("add-port", "br1", "p1"), step("list-ports", "br1"), step("list-ports", "br0"),
        step("port-to-br", "p1"), step("iface-to-br", "p1"), step("list-ifaces", "br1"),
        step("del-port", "br0", "p1"), step("get", "Port", "p1", "tag"),
        step("show", order="tree"), step("set-fail-mode", "br1", "secure"),
        step("get-fail-mode", "br1"), step("set-controller", "br1", "tcp:1.2.3.4"),
        step("get-controller", "br1"),
        step("br-set-external-id", "br1", "k", "v"), step("br-get-external-id", "br1"),
        step("br-get-external-id", "br1", "k"), step("br-set-external-id", "br1", "k"),
        step("br-get-external-id", "br1"), step("del-br", "br1"), step("list-br"),
        step("show", order="tree"),
        step("add-br", "br5", "br0", "5", "--", "add-br", "br6", "br0", "6", "--", "add-port",
             "br5", "p5", "--", "add-port", "br6", "p6"),
        step("del-port", "br0", "p5"), step("del-port", "br6", "p5"),
        step("del-br", "br0"), step("list-br"), step("show"),
    ],
    "ports": [
        *BRIDGES, step("list-ports", "br0"), step("list-ifaces", "br0"),
        step("port-to-br", "p1"), step("iface-to-br", "p2"), step("port-to-br", "br0"),
        step("port-to-br", "nosuch"), step("iface-to-br", "nosuch"),
        step("add-port", "br0", "p1"), step("--may-exist", "add-port", "br0", "p1"),
        step("add-br", "br1"), step("--may-exist", "add-port", "br1", "p1"),
        step("add-port", "br1", "br0"), step("add-port", "nosuch", "p9"),
        step("add-port", "br0", ""), step("add-port", "br1", "p3", "tag=5",
                                          "other_config:a=b"),
        step("add-port", "br1", "p4", "tag=9999"), step("add-port", "br1", "p4", "nosuch=1"),
        step("list", "Port", "p3"), step("del-port", "br1", "p1"),
        step("del-port", "p1"), step("del-port", "p1"), step("--if-exists", "del-port", "p1"),
        step("del-port", "br0"), step("--if-exists", "del-port", "br0"),
        step("del-port", "br1", "p2"), step("list-ports", "br0"),
        step("add-port", "br0", "v1", "--", "set", "Interface", "v1", "type=internal"),
        step("add-port", "br0", "pa", "--", "set", "Interface", "pa", "type=patch",
             "options:peer=pb"),
        step("add-port", "br1", "pb", "--", "set", "Interface", "pb", "type=patch",
             "options:peer=pa", "--", "set", "Port", "pb", "tag=3"),
        step("list", "Interface", "pa"), step("show", order="tree"),
    ],
    "bonds": [
        *BRIDGES, step("add-bond", "br0", "bond0", "a", "b"),
        step("add-bond", "br0", "bond1", "c"), step("add-bond", "br0", "bond1", "c", "lacp=active"),
        step("--fake-iface", "add-bond", "br0", "bond2", "d", "e", "lacp=active",
             "bond_mode=balance-tcp"),
        step("list", "Port", "bond2"), step("list-ifaces", "br0"),
        step("--may-exist", "add-bond", "br0", "bond0", "b", "a"),
        step("--may-exist", "add-bond", "br0", "bond0", "a", "x"),
        step("add-bond-iface", "bond0", "f"), step("add-bond-iface", "bond0", "a"),
        step("--may-exist", "add-bond-iface", "bond0", "a"),
        step("--may-exist", "add-bond-iface", "bond2", "a"),
        step("add-bond-iface", "nosuch", "g"),
        step("list-ifaces", "br0"), step("del-bond-iface", "bond0", "f"),
        step("del-bond-iface", "f"), step("--if-exists", "del-bond-iface", "f"),
        step("del-bond-iface", "bond2", "a"), step("del-bond-iface", "p1"),
        step("del-bond-iface", "a"), step("del-bond-iface", "b"),
        step("del-port", "a"), step("--with-iface", "del-port", "d"),
        step("--with-iface", "del-port", "nosuch"),
        step("--with-iface", "--if-exists", "del-port", "nosuch"),
        step("list-ports", "br0"), step("show", order="tree"),
    ],
    "controllers_and_managers": [
        *BRIDGES, step("get-controller", "br0"),
        step("set-controller", "br0", "tcp:127.0.0.1:6653", "unix:/tmp/c"),
        step("get-controller", "br0"),
        step("--inactivity-probe=3000", "set-controller", "br0", "ptcp:6633", "bogus"),
        step("list", "Controller", order="records"), step("get-controller", "br0"),
        step("list", "Controller", "br0"), step("get", "Controller", "br0", "target"),
        step("del-controller", "br0"), step("get-controller", "br0"),
        step("get-controller", "nosuch"),
        step("get-fail-mode", "br0"), step("set-fail-mode", "br0", "secure"),
        step("get-fail-mode", "br0"), step("set-fail-mode", "br0", "bogus"),
        step("del-fail-mode", "br0"), step("get-fail-mode", "br0"),
        step("get-manager"), step("set-manager", "ptcp:6640", "tcp:1.2.3.4:6640"),
        step("get-manager"), step("--inactivity-probe=7", "set-manager", "ptcp:6641"),
        step("list", "Manager"), step("get", "Manager", "ptcp:6641", "inactivity_probe"),
        step("del-manager"), step("get-manager"), step("show", order="tree"),
    ],
    "ssl_and_emer_reset": [
        *BRIDGES, step("get-ssl"), step("set-ssl", "/k", "/c", "/ca"), step("get-ssl"),
        step("--bootstrap", "set-ssl", "/k2", "/c2", "/ca2"), step("get-ssl"),
        step("list", "SSL"), step("get", "SSL", ".", "private_key"),
        step("del-ssl"), step("get-ssl"), step("set-ssl", "a", "b", "c"),
        step("set-controller", "br0", "tcp:1.1.1.1"), step("set-fail-mode", "br0", "secure"),
        step("set", "Bridge", "br0", "other_config:hwaddr=00:11:22:33:44:55",
             "other_config:x=y", "flood_vlans=1,2"),
        step("set", "Port", "p1", "other_config:a=b"),
        step("set", "Interface", "p1", "ingress_policing_rate=10"),
        step("set-manager", "ptcp:1"),
        step("--", "--id=@m", "create", "Mirror", "name=m0", "--", "add", "Bridge", "br0",
             "mirrors", "@m"),
        step("emer-reset"), step("list", "Bridge", "br0"), step("list", "Port", "p1"),
        step("get-ssl"), step("get-manager"),
    ],
    "generic_get_set": [
        *BRIDGES, step("get", "Bridge", "br0", "name", "_uuid", "fail_mode", "ports"),
        step("get", "Bridge", "br0", "other_config:nosuch"),
        step("--if-exists", "get", "Bridge", "br0", "other_config:nosuch"),
        step("get", "Bridge", "nosuch", "name"), step("--if-exists", "get", "Bridge", "nosuch"),
        step("get", "Bridge", "br0", "nosuch"), step("get", "Bridge", "br0", "name:key"),
        step("get", "Nosuch", "br0"), step("get", "b", "br0", "name"),
        step("get", "Br", "br0", "n"), step("get", "Bridge", "br0", "s"),
        step("get", "Bridge", "br0", "name=x"),
        step("set", "Bridge", "br0", "other_config:a=1", "external_ids:k=\"v w\""),
        step("get", "Bridge", "br0", "other_config", "external_ids:k"),
        step("set", "Bridge", "br0", "other_config={b=2, c=3}", "-- ", "list-br"),
        step("set", "Bridge", "br0", "other_config={b=2,c=3}"),
        step("get", "Bridge", "br0", "other_config", "other-config:c"),
        step("set", "Bridge", "br0", "stp_enable=maybe"),
        step("set", "Bridge", "br0", "stp_enable=true", "mcast_snooping_enable=yes"),
        step("set", "Port", "p1", "tag=4096"), step("set", "Port", "p1", "tag=abc"),
        step("set", "Port", "p1", "tag=7", "trunks=1,2,3"), step("get", "Port", "p1", "tag",
                                                                 "trunks"),
        step("set", "Port", "p1", "trunks=[]", "tag=[]"), step("get", "Port", "p1", "tag"),
        step("set", "Bridge", "br0", "name=br9"), step("set", "Bridge", "br0"),
        step("set", "Bridge", "br0", "other_config"), step("set", "Bridge", "br0",
                                                          "other_config:"),
        step("set", "Bridge", "br0", ":a=b"), step("set", "Bridge", "br0", "fail_mode:x=y"),
        step("set", "Bridge", "br0", 'external_ids:"a:b"=c', "external_ids:d\\=e=f"),
        step("get", "Bridge", "br0", "external_ids"),
        step("set", "Bridge", "br0", 'external_ids:name="héllo wörld"',
             'external_ids:q="a\\"b"', "external_ids:e=\"\"", "external_ids:t=true",
             "external_ids:n=123", "external_ids:u=12345678-1234-1234-1234-123456789012"),
        step("get", "Bridge", "br0", "external_ids", "external_ids:name"),
        step("--bare", "--columns=external_ids", "list", "Bridge", "br0"),
        step("--format=json", "--columns=external_ids", "list", "Bridge", "br0"),
        step("--data=json", "--columns=external_ids", "list", "Bridge", "br0"),
        step("--format=csv", "--columns=external_ids", "list", "Bridge", "br0"),
        step("set", "Bridge", "br0", "external_ids:x=\"unterminated"),
        step("set", "Bridge", "br0", "external_ids:x=a\\"),
        step("set", "Bridge", "br0", "other_config={a=1"),
        step("set", "Bridge", "br0", "other_config={a=1}x"),
        step("set", "Bridge", "br0", "other_config={a}"),
        step("set", "Bridge", "br0", "other_config={a=1,a=2}"),
        step("set", "Port", "p1", "trunks=[1,1]"), step("set", "Port", "p1", "trunks=1-5"),
        step("set", "Port", "p1", "trunks=5-1"), step("get", "Port", "p1", "trunks"),
        step("set", "Port", "p1", "tag=[]"), step("set", "Port", "p1", "tag="),
        step("set", "Interface", "p1", "ofport_request=0"),
        step("set", "Interface", "p1", "type=\"\""), step("set", "Interface", "p1", "type="),
        step("--if-exists", "set", "Bridge", "nosuch", "other_config:a=b"),
        step("set", "Bridge", "nosuch", "other_config:a=b"),
        step("set", "Open_vSwitch", ".", "external_ids:system-id=abc",
             "other_config:x=1"),
        step("get", "Open_vSwitch", ".", "external_ids", "other_config"),
        step("--id=@x", "get", "Bridge", "br0"), step("--if-exists", "--id=@x", "get",
                                                      "Bridge", "br0"),
        step("--id=x", "get", "Bridge", "br0"),
        step("--", "--id=@b", "get", "Bridge", "br0", "--", "set", "Open_vSwitch", ".",
             "bridges=@b"), step("list-br"),
    ],
    "generic_add_remove_clear": [
        *BRIDGES, step("add", "Bridge", "br0", "other_config", "a=1", "b=2"),
        step("add", "Bridge", "br0", "other_config", "a=9", "c=3", "--", "list-br"),
        step("get", "Bridge", "br0", "other_config"),
        step("add", "Bridge", "br0", "other_config", "a=10"),
        step("get", "Bridge", "br0", "other_config"),
        step("add", "Port", "p1", "trunks", "1", "2,3", "[4, 5]"),
        step("get", "Port", "p1", "trunks"), step("add", "Port", "p1", "tag", "1"),
        step("add", "Port", "p1", "tag", "2"), step("add", "Port", "p1", "tag", "3", "--",
                                                    "list-br"),
        step("add", "Port", "p1", "trunks", "5000"), step("add", "Port", "p1", "nosuch", "1"),
        step("add", "Port", "p1", "name", "x"), step("add", "Port", "nosuch", "trunks", "1"),
        step("--if-exists", "add", "Port", "nosuch", "trunks", "1"),
        step("add", "Port", "p1", "trunks", "[]"),
        step("remove", "Bridge", "br0", "other_config", "a"),
        step("remove", "Bridge", "br0", "other_config", "b=9"),
        step("remove", "Bridge", "br0", "other_config", "b=2", "c"),
        step("get", "Bridge", "br0", "other_config"),
        step("remove", "Port", "p1", "trunks", "1", "2-3"), step("get", "Port", "p1", "trunks"),
        step("remove", "Port", "p1", "trunks", "x"),
        step("remove", "Interface", "p1", "type", "\"\""),
        step("remove", "Bridge", "br0", "name", "br0"),
        step("remove", "Port", "p1", "interfaces", "@nosuch"),
        step("clear", "Port", "p1", "trunks", "tag"), step("get", "Port", "p1", "trunks"),
        step("clear", "Port", "p1", "name"), step("clear", "Interface", "p1", "type"),
        step("clear", "Port", "nosuch", "tag"),
        step("--if-exists", "clear", "Port", "nosuch", "tag"),
        step("clear", "Port", "p1", "nosuch"), step("list", "Port", "p1"),
    ],
    "generic_list_find_formats": [
        *BRIDGES, step("set", "Port", "p1", "tag=1"), step("set", "Port", "p2", "tag=2",
                                                         "other_config:x=y"),
        step("list", "Port", order="records"),
        step("--columns=name,tag", "list", "Port", "p1", "p2"),
        step("--columns=name,tag", "list", "Port", "p1", "nosuch"),
        step("--if-exists", "--columns=name,tag", "list", "Port", "p1", "nosuch"),
        step("--columns=", "list", "Port"), step("--columns=nosuch", "list", "Port"),
        step("--columns=_uuid,name", "list", "Port", "p1"),
        step("--columns", "name", "list", "Port", "p1"),
        step("--columns=name,tag", "find", "Port", "tag=1"),
        step("--columns=name", "find", "Port", "tag>1"),
        step("--columns=name", "find", "Port", "tag!=1", order="lines"),
        step("--columns=name", "find", "Port", "other_config:x=y"),
        step("--columns=name", "find", "Port", "other_config:x!=y", order="lines"),
        step("--columns=name", "find", "Port", "other_config{>=}{x=y}"),
        step("--columns=name", "find", "Port", "other_config:x{in}[y,z]", order="records"),
        step("--columns=name", "find", "Port", "trunks{in}[1,2]", order="lines"),
        step("--columns=name", "find", "Port", "tag{not-in}1", order="lines"),
        step("--columns=name", "find", "Port", "name:x=1"),
        step("--columns=name", "find", "Port", "tag~1"),
        step("--columns=name", "find", "Port", "tag="),
        step("find", "Nosuch"), step("--columns=name", "find", "Interface", "type=internal"),
        step("--format=table", "--columns=name,tag,other_config", "find", "Port", "tag=2"),
        step("--format=csv", "--columns=name,tag", "find", "Port", "tag=2"),
        step("--format=json", "--columns=name,tag,_uuid", "find", "Port", "tag=2"),
        step("--format=json", "--pretty", "--columns=name,tag", "find", "Port", "tag=2"),
        step("--format=html", "--columns=name,_uuid", "find", "Port", "tag=2"),
        step("--data=json", "--columns=name,tag", "list", "Port", "p2"),
        step("--data=bare", "--columns=name,other_config", "list", "Port", "p2"),
        step("--bare", "--columns=name,interfaces", "list", "Port", "p2"),
        step("--no-headings", "--format=table", "--columns=name", "list", "Port", "p2"),
        step("--format=bogus", "list", "Port"), step("--data=bogus", "list", "Port"),
        step("--oneline", "list-ports", "br0", "--", "get", "Port", "p1", "tag", "--",
             "list-br"),
        step("--columns=name", "list", "Port", "p1", "--", "--columns=name", "list",
             "Interface", "p1", "--", "list-br", "--", "--columns=tag", "list", "Port", "p2"),
        step("list", "Open_vSwitch", "."), step("list", "Bridge", "."),
        step("--bare", "--columns=_uuid", "find", "Port", "name=p1"),
    ],
    "generic_create_destroy": [
        *BRIDGES,
        step("create", "Bridge", "name=lonely"),
        step("--", "--id=@q", "create", "QoS", "type=linux-htb", "--", "set", "Port", "p1",
             "qos=@q"),
        step("list", "QoS"), step("get", "QoS", "p1", "type"),
        step("--", "--id=@p", "create", "Port", "name=p9", "interfaces=@i", "--",
             "--id=@i", "create", "Interface", "name=p9", "--", "add", "Bridge", "br0",
             "ports", "@p"),
        step("list-ports", "br0"),
        step("--", "--id=@x", "create", "Port", "name=p10", "--", "add", "Bridge", "br0",
             "ports", "@y"),
        step("--", "--id=@x", "create", "Port", "name=p10", "interfaces=[]"),
        step("--", "--id=@x", "create", "Port", "name=p10", "--", "--id=@x", "create",
             "Port", "name=p11"),
        step("--", "--id=x", "create", "Port", "name=p10"),
        step("create", "Nosuch", "a=b"), step("create", "Port", "nosuch=1"),
        step("create", "Port", "name"),
        step("--", "--id=@m", "create", "Manager", "target=ptcp:1", "--", "add",
             "Open_vSwitch", ".", "manager_options", "@m"),
        step("--", "--id=@f", "create", "Flow_Sample_Collector_Set", "id=7",
             "bridge=@b", "--", "--id=@b", "get", "Bridge", "br0"),
        step("create", "Flow_Sample_Collector_Set", "id=8"),
        step("list", "Flow_Sample_Collector_Set", "7"),
        step("destroy", "QoS", "p1"), step("get", "Port", "p1", "qos"),
        step("destroy", "Manager", "ptcp:1"), step("get-manager"),
        step("destroy", "Port", "p2"), step("list-ports", "br0"),
        step("destroy", "Flow_Sample_Collector_Set", "7"),
        step("destroy", "Port"), step("destroy", "Port", "nosuch"),
        step("--if-exists", "destroy", "Port", "nosuch"),
        step("--all", "destroy", "Port", "p1"), step("--all", "--if-exists", "destroy", "QoS"),
        step("--all", "destroy", "Flow_Sample_Collector_Set"),
        step("--", "--id=@p", "get", "Port", "p9", "--", "remove", "Bridge", "br0", "ports",
             "@p"), step("list-ports", "br0"),
        step("--", "--id=12345678-1234-4678-9234-567812345678", "create", "QoS",
             "type=linux-htb", "--", "set", "Port", "p1",
             "qos=12345678-1234-4678-9234-567812345678"),
        step("get", "Port", "p1", "qos"), step("list", "QoS", "12345678"),
        step("list", "QoS", "1234"), step("list", "QoS", "123"),
        step("--", "--id=@q", "get", "QoS", "p1", "_uuid", "type", "--", "--columns=name",
             "find", "Port", "qos=@q"),
        step("--columns=name", "find", "Port", "qos=@nosuch"),
        step("wait-until", "Port", "p1", "qos{!=}[]", "--", "get", "Port", "p1", "name"),
        step("--all", "destroy", "Bridge"), step("list-br"),
        step("--all", "destroy", "Open_vSwitch"), step("show"),
    ],
    "errors_and_options": [
        INIT, step("nosuch"), step("--nosuch"), step("--no", "list-br"),
        step("-x"), step("--db"), step("list-br", "extra"),
        step("list-br", "--real"), step("add-br"), step("--if-exists", "list-br"),
        step("--may-exist"), step("--may-exist", "--", "list-br"), step("--"),
        step("list-br", "--", "--"), step("--", "--if-exists=x", "del-br", "x"),
        step("--", "--if-exists", "--if-exists", "del-br", "x"),
        step("--", "--id", "create", "Bridge", "name=x"),
        step("--", "--ifx", "del-br", "x"), step("--fa", "list-br"),
        step("--timeout=0", "list-br"), step("--timeout=abc", "list-br"),
        step("-t", "-1", "list-br"), step("--if-exists=x", "list-br"),
        step("add-br", "br0", "--", "add-br", "br0"),
        step("add-br", "br0", "--", "add-port", "br0", "br0"),
        step("add-br", "br0", "--", "add-port", "br0", "p1", "--", "add-port", "br0", "p1"),
        step("list-br"),
        step("--dry-run", "add-br", "br0"), step("list-br"),
        step("add-br", "br0"), step("--dry-run", "del-br", "br0"), step("list-br"),
        step("--", "--id=@b", "create", "Bridge", "name=br0", "--", "add", "Open_vSwitch",
             ".", "bridges", "@b"),
        step("set", "Bridge", "br0",
             "ports=[00000000-0000-0000-0000-000000000001]"),
        step("list-br"), step("show", order="tree"),
        step("comment", "hello", "world"), step("comment"),
        step("wait-until", "Bridge", "br0"), step("wait-until", "Bridge", "br0", "name=br0"),
        step("wait-until", "Bridge", "br0", "nosuch=1"),
    ],
    "aa_zones_and_capabilities": [
        *BRIDGES, step("add-br", "br1", "br0", "7"), step("get-aa-mapping", "br0"),
        step("add-aa-mapping", "br0", "100", "10"), step("add-aa-mapping", "br1", "200", "20"),
        step("add-aa-mapping", "br0", "x", "1"), step("add-aa-mapping", "br0", "1", "y"),
        step("add-aa-mapping", "nosuch", "1", "2"), step("get-aa-mapping", "br0"),
        step("get-aa-mapping", "br1"), step("list", "AutoAttach"),
        step("del-aa-mapping", "br0", "100", "11"), step("del-aa-mapping", "br0", "100", "10"),
        step("get-aa-mapping", "br0"),
        step("list-dp-cap", "netdev"), step("list-zone-tp", "netdev"),
        step("add-zone-tp", "netdev", "zone=5", "icmp_first=30"),
        step("--", "--id=@d", "create", "Datapath", "capabilities:ct_zero_snat=true",
             "capabilities:recirc=true", "--", "set", "Open_vSwitch", ".",
             "datapaths:netdev=@d"),
        step("list-dp-cap", "netdev"), step("list-zone-tp", "netdev"),
        step("add-zone-tp", "netdev", "zone=5", "icmp_first=30", "icmp_reply=60"),
        step("add-zone-tp", "netdev", "zone=5", "icmp_first=30"),
        step("--may-exist", "add-zone-tp", "netdev", "zone=5", "tcp_syn_sent=3"),
        step("add-zone-tp", "netdev", "zone=6", "icmp_first=30", "icmp_reply=60"),
        step("list-zone-tp", "netdev"), step("list", "CT_Timeout_Policy", order="records"),
        step("del-zone-tp", "netdev", "zone=5"), step("del-zone-tp", "netdev", "zone=5"),
        step("--if-exists", "del-zone-tp", "netdev", "zone=5"),
        step("del-zone-tp", "nosuch", "zone=5"), step("list-zone-tp", "netdev"),
    ],
    "record_names": [
        *BRIDGES, step("set", "Bridge", "br0", "netflow=@n", "sflow=@s", "ipfix=@i", "--",
                       "--id=@n", "create", "NetFlow", "targets=\"1.2.3.4:5\"", "--",
                       "--id=@s", "create", "sFlow", "targets=\"1.2.3.4:6\"", "--",
                       "--id=@i", "create", "IPFIX", "targets=\"1.2.3.4:7\""),
        step("get", "NetFlow", "br0", "targets"), step("get", "sFlow", "br0", "targets"),
        step("get", "IPFIX", "br0", "targets"), step("get", "NetFlow", "br1", "targets"),
        step("list", "Open_vSwitch", "."), step("list", "Open_vSwitch", "nosuch"),
        step("--", "--id=@m", "create", "Mirror", "name=m1", "select_all=true", "--", "add",
             "Bridge", "br0", "mirrors", "@m"),
        step("get", "Mirror", "m1", "select_all"), step("get", "Interface", "p1", "type"),
        step("create", "Open_vSwitch"), step("get", "Open_vSwitch", ".", "bridges"),
        step("--all", "destroy", "Open_vSwitch"), step("list-br"),
    ],
}


WAIT_CASES: dict[str, list[Step]] = {
    "wait_for_vswitchd": [
        step("init", wait=True), step("get", "Open_vSwitch", ".", "next_cfg", "cur_cfg"),
        step("add-br", "br0", wait=True), step("add-port", "br0", "p1", wait=True),
        step("get", "Interface", "p1", "ofport"),
        step("add-port", "br0", "bad0", wait=True),
        step("add-bond", "br0", "bond0", "bad1", "good1", wait=True),
        step("list-br", wait=True), step("get", "Open_vSwitch", ".", "next_cfg", "cur_cfg"),
        step("set", "Bridge", "br0", "other_config:a=b", wait=True),
        step("set", "Bridge", "br0", "other_config:a=b", wait=True),
        step("get", "Open_vSwitch", ".", "next_cfg", "cur_cfg"),
        step("del-br", "br0", wait=True), step("show", wait=True),
        step("wait-until", "Bridge", "br9", "other_config:x=y", background=True),
        step("add-br", "br9"), step("set", "Bridge", "br9", "other_config:x=n"),
        step("set", "Bridge", "br9", "other_config:x=y", "--", "list-br"), JOIN,
        step("wait-until", "Bridge", "br9", "other_config:x=y", wait=True),
    ],
}

TIMEOUT_CASES: dict[str, list[Step]] = {
    "timeouts_and_connections": [
        INIT, step("--timeout=1", "wait-until", "Bridge", "nosuch"),
        step("--timeout=1", "add-br", "br0", wait=True), step("list-br"),
        step("list-br", env=(("OVS_CTL_TIMEOUT", "1"),), wait=True),
        step("--timeout=1", "--", "--id=@x", "create", "Bridge", "name=x", wait=True),
        step("--db=unix:/nonexistent/db.sock", "list-br"),
        step("--db=tcp:127.0.0.1:1", "list-br"), step("--db=bogus:x", "list-br"),
        step("--db=tcp:127.0.0.2", "list-br"),
        step("--retry", "--timeout=1", "--db=unix:/nonexistent/db.sock", "list-br"),
        step("--db=unix:/nonexistent/db.sock", "list", "Nosuch"),
        step("--commands"), step("--options"), step("--help", names=True),
        step("-h", names=True),
    ],
}


SAME_SERVER_SETUP = [
    ["add-br", "br0", "--", "add-br", "br1", "--", "add-br", "br2", "br0", "5"],
    *[["add-port", f"br{i % 2}", f"p{i}", f"tag={i}", f"other_config:k{i}=v"]
      for i in range(9)],
    ["add-bond", "br1", "bond0", "e0", "e1", "e2"],
    ["set-controller", "br0", "tcp:1.1.1.1", "tcp:2.2.2.2", "tcp:3.3.3.3"],
]
SAME_SERVER_READS = [
    ["list", "Port"], ["list", "Interface"], ["list", "Bridge"], ["list", "Controller"],
    ["--columns=name,tag", "find", "Port", "tag>2"], ["show"], ["list", "Open_vSwitch"],
    ["--format=table", "list", "Interface"], ["--format=json", "list", "Port"],
    ["get", "Bridge", "br0", "ports", "controller"], ["list-ifaces", "br1"],
    ["list", "Interface", "--", "list-ports", "br0"], ["list", "Port", "--", "list-br"],
    ["list", "Controller", "--", "get-controller", "br0"],
    ["list", "Bridge", "--", "list-br"], ["find", "Interface", "--", "show"],
]


def _load_golden() -> dict[str, Any]:
    if GOLDEN.exists():
        return json.loads(GOLDEN.read_text())  # type: ignore[no-any-return]
    return {}


def _diff(a: Any, b: Any) -> str:
    sa = json.dumps(a, indent=1, sort_keys=True).splitlines()
    sb = json.dumps(b, indent=1, sort_keys=True).splitlines()
    import difflib
    return "\n".join(difflib.unified_diff(sa, sb, "ovs-vsctl", "pyovs-vsctl", lineterm="",
                                          n=2))


def _need_pyovs() -> None:
    reason = peers.pyovs_available()
    if reason:
        pytest.skip(reason)


def _check(name: str, steps: list[Step], tmp_path: Path, *, fake_vswitchd: bool = False,
           use_golden: bool = True) -> None:
    _need_pyovs()
    golden = _load_golden()
    have_real = os.access(REAL_VSCTL, os.X_OK)
    if not have_real and not (use_golden and name in golden):
        pytest.skip(f"{REAL_VSCTL} not installed (Debian openvswitch-switch) and no golden "
                    f"answer for {name}")
    # The two runs are independent (own servers, own directories): run them
    # side by side to halve the wall-clock time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        mine = pool.submit(run_sequence, "pyovs", steps, tmp_path / "pyovs",
                           fake_vswitchd=fake_vswitchd)
        real: Any = (run_sequence("real", steps, tmp_path / "real",
                                  fake_vswitchd=fake_vswitchd) if have_real else None)
        got = mine.result()
    if real is not None and use_golden and os.environ.get(REGEN_ENV):
        golden[name] = real
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True,
                                     ensure_ascii=False) + "\n")
    if real is not None:
        assert got == real, f"{name}: pyovs-vsctl differs from ovs-vsctl\n{_diff(real, got)}"
    if use_golden and name in golden:
        assert got == golden[name], (f"{name}: pyovs-vsctl differs from ovs-vsctl's golden\n"
                                     f"{_diff(golden[name], got)}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_vsctl_sequence(name: str, tmp_path: Path) -> None:
    _check(name, CASES[name], tmp_path)


def test_vsctl_reads_same_database_byte_for_byte(tmp_path: Path) -> None:
    """On one database both tools print the same bytes, rows in the same hash order."""
    _need_pyovs()
    if not os.access(REAL_VSCTL, os.X_OK):
        pytest.skip(f"{REAL_VSCTL} not installed (Debian openvswitch-switch)")
    with peers.DbServer("pyovs", "vswitch", tmp_dir=tmp_path) as server:
        base = [f"--db={server.remote}", "--no-wait"]
        for argv in SAME_SERVER_SETUP:
            server.run_tool([str(PYOVS_VSCTL), *base, *argv], check=True)
        for argv in SAME_SERVER_READS:
            real = server.run_tool([str(REAL_VSCTL), *base, *argv])
            got = server.run_tool([str(PYOVS_VSCTL), *base, *argv])
            assert (got.returncode, got.stdout, got.stderr) == (
                real.returncode, real.stdout, real.stderr), argv


@pytest.mark.parametrize("name", sorted(WAIT_CASES))
def test_vsctl_waits_for_vswitchd(name: str, tmp_path: Path) -> None:
    """Without --no-wait: next_cfg is bumped and the tool waits for cur_cfg."""
    _check(name, WAIT_CASES[name], tmp_path, fake_vswitchd=True)


@pytest.mark.parametrize("name", sorted(TIMEOUT_CASES))
def test_vsctl_timeouts_and_connections(name: str, tmp_path: Path) -> None:
    """--timeout (SIGALRM), OVS_CTL_TIMEOUT, --retry, unreachable databases, --help."""
    _check(name, TIMEOUT_CASES[name], tmp_path)
