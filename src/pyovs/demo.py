"""``make demo``: start pyovsdb-server on an embedded default and use it.

The demo creates (on first run) a database from the bundled Open_vSwitch
schema in pyovs's default directories, starts ``pyovsdb-server`` detached,
then talks to it as real clients do: it watches the Bridge table with
``monitor_cond``, runs transactions that add a bridge and a port the way
ovs-vsctl does, shows the update the monitor received, runs the real
``ovs-vsctl`` and ``ovsdb-client`` too when they are installed, compacts the
database through the control socket, and stops the server.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pyovs import dirs
from pyovs.daemon import read_pidfile
from pyovs.ovsdb.file import FileStorage
from pyovs.ovsdb.jsonrpc import JsonRpcStream, Message
from pyovs.ovsdb.schema import bundled_schema_path
from pyovs.unixctl import unixctl_call

BIN = Path(sys.executable).parent


class Rpc:
    """Just enough JSON-RPC for a demo: call() and the notifications seen meanwhile."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.stream = JsonRpcStream()
        self.next_id = 0
        self.notifications: list[Message] = []

    def call(self, method: str, *params: Any) -> Any:
        self.next_id += 1
        self.sock.sendall(self.stream.send(Message.request(method, list(params),
                                                          self.next_id)))
        while True:
            msg = self.stream.next_message()
            if msg is None:
                self.stream.receive_data(self.sock.recv(65536))
                continue
            if msg.id == self.next_id:
                if msg.error is not None:
                    raise RuntimeError(json.dumps(msg.error))
                return msg.result
            self.notifications.append(msg)


def say(text: str) -> None:
    print(f"\n== {text}")


def main() -> int:
    rundir = dirs.rundir(ensure=True)
    dbdir = dirs.dbdir(ensure=True)
    db_path = os.path.join(dbdir, "conf.db")
    sock = os.path.join(rundir, "db.sock")
    pidfile = os.path.join(rundir, "pyovsdb-server.pid")
    if not os.path.exists(db_path):
        schema = json.loads(bundled_schema_path("vswitch").read_text())
        FileStorage.create(db_path, schema)
        say(f"created {db_path} from the bundled Open_vSwitch schema {schema['version']}")
    else:
        say(f"using {db_path}")
    env = dict(os.environ, OVS_RUNDIR=rundir, OVS_DBDIR=dbdir,
               OVS_LOGDIR=dirs.logdir(ensure=True))
    subprocess.run([str(BIN / "pyovsdb-server"), db_path, f"--remote=punix:{sock}",
                    f"--pidfile={pidfile}", "--log-file", "--detach"], env=env, check=True)
    say(f"pyovsdb-server is running (pid {read_pidfile(pidfile)}), listening on {sock}")
    try:
        run_clients(sock, env)
        ctl = os.path.join(rundir, f"pyovsdb-server.{read_pidfile(pidfile)}.ctl")
        ok, text = unixctl_call(ctl, "ovsdb-server/compact", [])
        say(f"ovsdb-server/compact through the control socket: {'ok' if ok else text}")
    finally:
        pid = read_pidfile(pidfile)
        if pid > 0:
            ctl = os.path.join(rundir, f"pyovsdb-server.{pid}.ctl")
            unixctl_call(ctl, "exit", [])
            for _ in range(50):
                if not os.path.exists(pidfile):
                    break
                time.sleep(0.1)
        say("pyovsdb-server stopped")
    return 0


def run_clients(sock: str, env: dict[str, str]) -> None:
    watcher = Rpc(sock)
    client = Rpc(sock)
    say("list_dbs: " + ", ".join(client.call("list_dbs")))
    initial = watcher.call("monitor_cond", "Open_vSwitch", "demo",
                           {"Bridge": [{"columns": ["name", "ports"]}]})
    say(f"a second client monitors the Bridge table ({len(initial.get('Bridge', {}))} "
        "bridges so far)")
    ovs = client.call("transact", "Open_vSwitch",
                      {"op": "select", "table": "Open_vSwitch", "where": [],
                       "columns": ["_uuid"]})[0]["rows"]
    if not ovs:
        client.call("transact", "Open_vSwitch",
                    {"op": "insert", "table": "Open_vSwitch", "row": {}})
    name = f"br-demo{int(time.time()) % 10000}"
    result = client.call("transact", "Open_vSwitch",
                         {"op": "insert", "table": "Interface", "uuid-name": "i",
                          "row": {"name": name, "type": "internal"}},
                         {"op": "insert", "table": "Port", "uuid-name": "p",
                          "row": {"name": name, "interfaces": ["named-uuid", "i"]}},
                         {"op": "insert", "table": "Bridge", "uuid-name": "b",
                          "row": {"name": name, "ports": ["named-uuid", "p"]}},
                         {"op": "mutate", "table": "Open_vSwitch", "where": [],
                          "mutations": [["bridges", "insert", ["named-uuid", "b"]],
                                        ["next_cfg", "+=", 1]]},
                         {"op": "comment", "comment": f"demo: add-br {name}"})
    say(f"transaction adding bridge {name}: " + json.dumps(result))
    r = client.call("transact", "Open_vSwitch",
                    {"op": "insert", "table": "Bridge", "uuid-name": "b",
                     "row": {"name": name}},
                    {"op": "mutate", "table": "Open_vSwitch", "where": [],
                     "mutations": [["bridges", "insert", ["named-uuid", "b"]]]})
    say(f"adding it again breaks the name index and changes nothing: {r[-1]['error']}: "
        f"{r[-1]['details'][:90]}...")
    watcher.call("echo")
    for note in watcher.notifications:
        say(f"the monitor received {note.method}: " + json.dumps(note.params)[:300])
    vsctl, client_tool = shutil.which("ovs-vsctl"), shutil.which("ovsdb-client")
    if vsctl:
        subprocess.run([vsctl, f"--db=unix:{sock}", "--no-wait", "add-port", name,
                        f"{name}-p1"], env=env, check=True)
        say("the real ovs-vsctl added a port; `ovs-vsctl show`:")
        subprocess.run([vsctl, f"--db=unix:{sock}", "show"], env=env, check=True)
    else:
        say("(install openvswitch-common to see the real ovs-vsctl drive pyovsdb-server)")
    tool = client_tool or str(BIN / "pyovsdb-client")
    if os.path.exists(tool):
        say(f"{os.path.basename(tool)} dump Bridge:")
        subprocess.run([tool, "dump", f"unix:{sock}", "Open_vSwitch", "Bridge", "name",
                        "ports"], env=env, check=False)


if __name__ == "__main__":
    sys.exit(main())
