"""pyovs-vsctl: ovs-vsctl, the Open vSwitch configuration tool, on the ctl engine.

Same command line, output, messages and exit codes as ``ovs-vsctl`` 3.1
(see ovs-vsctl(8)).  This module is the Open_vSwitch-specific table that
plugs into the generic engine of :mod:`pyovs.ctl`:

* :data:`TABLE_CLASSES` -- how rows are named: a Bridge, Port, Interface or
  Mirror by its ``name``, a Controller or NetFlow by the name of the bridge
  that uses it, a QoS by its port's name, a Manager by its ``target``...
  (OVS's ``tables[]``), and :data:`SHOW_TABLES`, the layout of ``show``;
* :class:`Vsctl`, the :class:`~pyovs.ctl.session.Tool`: every run makes sure
  the root ``Open_vSwitch`` row exists, and without ``--no-wait`` it bumps
  ``next_cfg`` in the transaction and, once committed, waits until
  ``cur_cfg`` catches up -- the signal that ovs-vswitchd (OVS's, or pyovs's
  later) has applied the change -- then reports interfaces it could not
  create;
* :func:`main`: global options (the table formatting ones come from
  :mod:`pyovs.ovsdb.table_format`), ``--help``, ``--commands``,
  ``--options``, ``--version``, and ``--timeout``, which like OVS's is an
  alarm: when it rings the tool logs "terminating with signal 14" and dies
  of ``SIGALRM``.

Known differences: SSL connections (``ssl:``/``pssl:`` and the PKI options)
are accepted on the command line but not supported; ``-v`` and the other
logging options are accepted and ignored.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import NoReturn

from pyovs import __version__, dirs
from pyovs.ctl.dbcmds import DB_COMMANDS, SHOW_COMMAND
from pyovs.ctl.engine import (
    Context,
    CtlFatal,
    CtlSchema,
    Log,
    Mode,
    RowId,
    ShowTable,
    TableClass,
)
from pyovs.ctl.idl import Idl, Txn, TxnStatus
from pyovs.ctl.parse import (
    LOCAL,
    NO_ARG,
    OPTIONAL,
    REQUIRED,
    GetoptError,
    LongOption,
    getopt,
    local_options,
    parse_commands,
    print_commands,
    print_options,
)
from pyovs.ctl.session import Options, Session, Tool
from pyovs.ovsdb.data import Datum, SymbolTable, Uuid
from pyovs.ovsdb.schema import DatabaseSchema, bundled_schema_path
from pyovs.ovsdb.table_format import USAGE as TABLE_USAGE
from pyovs.ovsdb.table_format import TableStyle, TableStyleError

from .vsctl_cache import VsctlContext
from .vsctl_cmds import VSCTL_COMMANDS

__all__ = ["SHOW_TABLES", "TABLE_CLASSES", "Vsctl", "main"]

TABLE_CLASSES: dict[str, TableClass] = {
    "Bridge": TableClass((RowId("Bridge", "name"),)),
    "Controller": TableClass((RowId("Bridge", "name", None, "controller"),)),
    "Interface": TableClass((RowId("Interface", "name"),)),
    "Mirror": TableClass((RowId("Mirror", "name"),)),
    "Manager": TableClass((RowId("Manager", "target"),)),
    "NetFlow": TableClass((RowId("Bridge", "name", None, "netflow"),)),
    "Port": TableClass((RowId("Port", "name"),)),
    "QoS": TableClass((RowId("Port", "name", None, "qos"),)),
    "sFlow": TableClass((RowId("Bridge", "name", None, "sflow"),)),
    "Flow_Table": TableClass((RowId("Flow_Table", "name"),)),
    "IPFIX": TableClass((RowId("Bridge", "name", None, "ipfix"),)),
    "AutoAttach": TableClass((RowId("Bridge", "name", None, "auto_attach"),)),
    "Flow_Sample_Collector_Set": TableClass((RowId("Flow_Sample_Collector_Set", "id"),)),
}
"""How users name rows of each table (OVS's ``tables[]`` in ovs-vsctl.c)."""

SHOW_TABLES: tuple[ShowTable, ...] = (
    ShowTable("Open_vSwitch", None, ("manager_options", "bridges", "ovs_version")),
    ShowTable("Bridge", "name", ("controller", "fail_mode", "datapath_type", "ports")),
    ShowTable("Port", "name", ("tag", "trunks", "interfaces")),
    ShowTable("Interface", "name", ("type", "options", "error", "bfd_status")),
    ShowTable("Controller", "target", ("is_connected",)),
    ShowTable("Manager", "target", ("is_connected",)),
)
"""The layout of ``show`` (OVS's ``cmd_show_tables``)."""

COMMANDS = (*DB_COMMANDS, SHOW_COMMAND, *VSCTL_COMMANDS)


def _schema() -> DatabaseSchema:
    return DatabaseSchema.from_file(bundled_schema_path("vswitch"))


class Vsctl(Tool):
    """The Open_vSwitch tool: root row, ``next_cfg``, waiting for ``cur_cfg``."""

    def __init__(self, program: str, schema: DatabaseSchema | None = None) -> None:
        super().__init__(CtlSchema(schema or _schema(), TABLE_CLASSES, SHOW_TABLES))
        self.program = program
        self.neoteric: list[Uuid] = []

    def context(self, idl: Idl, txn: Txn | None, symtab: SymbolTable | None,
                log: Log) -> Context:
        return VsctlContext(self.db, idl, txn, symtab, log, self.neoteric)

    def prerequisites(self, idl: Idl, options: Options) -> None:
        idl.add_table("Open_vSwitch")
        if options.wait:
            idl.add_column("Open_vSwitch", "cur_cfg")

    def start_txn(self, ctx: Context, options: Options) -> None:
        assert isinstance(ctx, VsctlContext)
        self.neoteric.clear()
        ovs = ctx.idl.table("Open_vSwitch").first()
        if ovs is None:
            ovs = ctx.txn.insert("Open_vSwitch")
        if options.wait:
            ctx.txn.increment(ovs, "next_cfg")
        ctx.ovs = ovs

    def after_commit(self, session: Session, txn: Txn, status: TxnStatus) -> None:
        if not session.options.wait or status is TxnStatus.UNCHANGED:
            return
        next_cfg = txn.inc_new_value

        def reloaded(idl: Idl) -> bool:
            return any(_int(idl.read(row, "cur_cfg")) >= next_cfg
                       for row in idl.table("Open_vSwitch"))

        session.wait_until(reloaded)
        self._check_new_ifaces(session, txn)

    def _check_new_ifaces(self, session: Session, txn: Txn) -> None:
        idl = session.idl
        failed = False
        for dummy in self.neoteric:
            real = txn.get_insert_uuid(dummy)
            iface = idl.get_row("Interface", real) if real is not None else None
            if iface is None:
                continue
            ofport = idl.read(iface, "ofport").scalar_value()
            if ofport is None or ofport == -1:
                name = idl.read(iface, "name").scalar_value()
                error = idl.read(iface, "error").scalar_value()
                if error:
                    _error(self.program, f"Error detected while setting up '{name}': "
                           f"{error}.  See ovs-vswitchd log for details.")
                else:
                    _error(self.program, f"Error detected while setting up '{name}'.  "
                           "See ovs-vswitchd log for details.")
                failed = True
        if failed:
            _error(self.program, f'The default log directory is "{dirs.logdir()}".')


def _int(datum: Datum) -> int:
    value = datum.scalar_value()
    return value if isinstance(value, int) else 0


def _error(program: str, message: str) -> None:
    sys.stderr.write(f"{program}: {message}\n")
    sys.stderr.flush()


# --- options --------------------------------------------------------------------

GLOBAL_OPTIONS: tuple[LongOption, ...] = (
    LongOption("db", REQUIRED, "db"),
    LongOption("no-syslog", NO_ARG, "no-syslog"),
    LongOption("no-wait", NO_ARG, "no-wait"),
    LongOption("dry-run", NO_ARG, "dry-run"),
    LongOption("oneline", NO_ARG, "oneline"),
    LongOption("timeout", REQUIRED, "timeout", "t"),
    LongOption("retry", NO_ARG, "retry"),
    LongOption("help", NO_ARG, "help", "h"),
    LongOption("commands", NO_ARG, "commands"),
    LongOption("options", NO_ARG, "options"),
    LongOption("leader-only", NO_ARG, "leader-only"),
    LongOption("no-leader-only", NO_ARG, "no-leader-only"),
    LongOption("shuffle-remotes", NO_ARG, "shuffle-remotes"),
    LongOption("no-shuffle-remotes", NO_ARG, "no-shuffle-remotes"),
    LongOption("version", NO_ARG, "version", "V"),
    LongOption("verbose", OPTIONAL, "verbose", "v"),
    LongOption("log-file", OPTIONAL, "log-file"),
    LongOption("syslog-method", REQUIRED, "syslog-method"),
    LongOption("syslog-target", REQUIRED, "syslog-target"),
    LongOption("format", REQUIRED, "format", "f"),
    LongOption("data", REQUIRED, "data", "d"),
    LongOption("no-headings", NO_ARG, "no-headings"),
    LongOption("pretty", NO_ARG, "pretty"),
    LongOption("bare", NO_ARG, "bare"),
    LongOption("max-column-width", REQUIRED, "max-column-width"),
    LongOption("private-key", REQUIRED, "private-key", "p"),
    LongOption("certificate", REQUIRED, "certificate", "c"),
    LongOption("ca-cert", REQUIRED, "ca-cert", "C"),
    LongOption("ssl-protocols", REQUIRED, "ssl-protocols"),
    LongOption("ssl-ciphers", REQUIRED, "ssl-ciphers"),
    LongOption("bootstrap-ca-cert", REQUIRED, "bootstrap-ca-cert"),
    LongOption("peer-ca-cert", REQUIRED, "peer-ca-cert"),
)
"""ovs-vsctl's global options, in OVS's order (which decides getopt's messages)."""

_TABLE_OPTIONS = frozenset(("format", "data", "no-headings", "pretty", "bare",
                            "max-column-width"))


def default_db() -> str:
    return f"unix:{dirs.rundir()}/db.sock"


def _str_to_uint(s: str) -> int | None:
    t = s.lstrip(" \t\n\v\f\r")
    body = t[1:] if t[:1] in ("+", "-") else t
    if not body or not body.isdigit() or not body.isascii():
        return None
    value = int(t)
    return value if 0 <= value <= 2**32 - 1 else None


class _Settings:
    def __init__(self) -> None:
        self.options = Options(db=default_db())
        self.timeout = 0
        self.no_syslog = False
        self.local: dict[str, str | None] = {}


def _parse_options(program: str, argv: list[str], tool: Vsctl) -> tuple[_Settings, int]:
    settings = _Settings()
    settings.options.style = TableStyle()
    all_options = [*GLOBAL_OPTIONS, *local_options(COMMANDS)]
    parsed, index = getopt(argv[1:], all_options)
    opts = settings.options
    for opt, arg in parsed:
        name = opt.val
        if name == LOCAL:
            settings.local[f"--{opt.name}"] = arg
        elif name == "db":
            opts.db = arg or ""
        elif name == "no-syslog":
            settings.no_syslog = True
        elif name == "no-wait":
            opts.wait = False
        elif name == "dry-run":
            opts.dry_run = True
        elif name == "oneline":
            opts.oneline = True
        elif name == "timeout":
            timeout = _str_to_uint(arg or "")
            if not timeout:
                raise CtlFatal(f"value {arg} on -t or --timeout is invalid")
            settings.timeout = timeout
        elif name == "retry":
            opts.retry = True
        elif name == "help":
            _out(usage(program))
        elif name == "commands":
            _out(print_commands(COMMANDS))
        elif name == "options":
            _out(print_options(GLOBAL_OPTIONS))
        elif name == "version":
            _out(f"{program} (pyovs) {__version__}\n"
                 f"DB Schema {tool.db.schema.version}\n")
        elif name in _TABLE_OPTIONS:
            try:
                opts.style.apply_option(f"--{name}", arg or "")
            except TableStyleError as e:
                raise CtlFatal(str(e)) from None
    return settings, index + 1


def _out(text: str) -> NoReturn:
    sys.stdout.write(text)
    sys.stdout.flush()
    raise SystemExit(0)


def _on_alarm(log: Log) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        sys.stderr.flush()
        log.warn("fatal_signal", "terminating with signal 14 (Alarm clock)")
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGALRM)

    signal.signal(signal.SIGALRM, handler)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    program = os.path.basename(argv[0]) if argv else "pyovs-vsctl"
    log = Log()
    try:
        tool = Vsctl(program)
        try:
            settings, start = _parse_options(program, argv, tool)
        except GetoptError as e:
            sys.stderr.write(f"{argv[0]}: {e.message}\n")
            return 1
        commands = parse_commands(argv[start:], settings.local,
                                  {c.name: c for c in COMMANDS})
        if any(c.syntax.mode is Mode.RW for c in commands) and not settings.no_syslog:
            log.skip()  # "Called as ..." goes to syslog at INFO
        timeout = settings.timeout or _str_to_uint(os.environ.get("OVS_CTL_TIMEOUT") or "")
        if timeout:
            _on_alarm(log)
            signal.alarm(timeout)
        session = Session(tool, settings.options, commands, argv, log)
        try:
            session.run_prerequisites()
            session.run()
        finally:
            session.flush()
    except CtlFatal as e:
        if e.message is not None:
            _error(program, e.message)
        return e.status
    except BrokenPipeError:
        return 1
    return 0


def usage(program: str) -> str:
    """``--help``: OVS's text, with this program's name and defaults."""
    return f"""\
{program}: ovs-vswitchd management utility
usage: {program} [OPTIONS] COMMAND [ARG...]

Open vSwitch commands:
  init                        initialize database, if not yet initialized
  show                        print overview of database contents
  emer-reset                  reset configuration to clean state

Bridge commands:
  add-br BRIDGE               create a new bridge named BRIDGE
  add-br BRIDGE PARENT VLAN   create new fake BRIDGE in PARENT on VLAN
  del-br BRIDGE               delete BRIDGE and all of its ports
  list-br                     print the names of all the bridges
  br-exists BRIDGE            exit 2 if BRIDGE does not exist
  br-to-vlan BRIDGE           print the VLAN which BRIDGE is on
  br-to-parent BRIDGE         print the parent of BRIDGE
  br-set-external-id BRIDGE KEY VALUE  set KEY on BRIDGE to VALUE
  br-set-external-id BRIDGE KEY  unset KEY on BRIDGE
  br-get-external-id BRIDGE KEY  print value of KEY on BRIDGE
  br-get-external-id BRIDGE  list key-value pairs on BRIDGE

Port commands (a bond is considered to be a single port):
  list-ports BRIDGE           print the names of all the ports on BRIDGE
  add-port BRIDGE PORT        add network device PORT to BRIDGE
  add-bond BRIDGE PORT IFACE...  add bonded port PORT in BRIDGE from IFACES
  del-port [BRIDGE] PORT      delete PORT (which may be bonded) from BRIDGE
  port-to-br PORT             print name of bridge that contains PORT

Interface commands (a bond consists of multiple interfaces):
  list-ifaces BRIDGE          print the names of all interfaces on BRIDGE
  iface-to-br IFACE           print name of bridge that contains IFACE

Controller commands:
  get-controller BRIDGE      print the controllers for BRIDGE
  del-controller BRIDGE      delete the controllers for BRIDGE
  [--inactivity-probe=MSECS]
  set-controller BRIDGE TARGET...  set the controllers for BRIDGE
  get-fail-mode BRIDGE       print the fail-mode for BRIDGE
  del-fail-mode BRIDGE       delete the fail-mode for BRIDGE
  set-fail-mode BRIDGE MODE  set the fail-mode for BRIDGE to MODE

Manager commands:
  get-manager                print the managers
  del-manager                delete the managers
  [--inactivity-probe=MSECS]
  set-manager TARGET...      set the list of managers to TARGET...

SSL commands:
  get-ssl                     print the SSL configuration
  del-ssl                     delete the SSL configuration
  set-ssl PRIV-KEY CERT CA-CERT  set the SSL configuration

Auto Attach commands:
  add-aa-mapping BRIDGE I-SID VLAN   add Auto Attach mapping to BRIDGE
  del-aa-mapping BRIDGE I-SID VLAN   delete Auto Attach mapping VLAN from BRIDGE
  get-aa-mapping BRIDGE              get Auto Attach mappings from BRIDGE

Switch commands:
  emer-reset                  reset switch to known good state

{DB_USAGE}{_tables_usage()}
Options:
  --db=DATABASE               connect to DATABASE
                              (default: {default_db()})
  --no-wait                   do not wait for ovs-vswitchd to reconfigure
  --retry                     keep trying to connect to server forever
  -t, --timeout=SECS          wait at most SECS seconds for ovs-vswitchd
  --dry-run                   do not commit changes to database
  --oneline                   print exactly one line of output per command
{TABLE_USAGE}
Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: {dirs.logdir()}/{program}.log)
  --syslog-method=(libc|unix:file|udp:ip:port)
                           specify how to send messages to syslog daemon
  --syslog-target=HOST:PORT  also send syslog msgs to HOST:PORT via UDP
  --no-syslog             equivalent to --verbose=vsctl:syslog:warn

Active database connection methods:
  tcp:HOST:PORT           PORT at remote HOST
  ssl:HOST:PORT           SSL PORT at remote HOST
  unix:FILE               Unix domain socket named FILE
Passive database connection methods:
  ptcp:PORT[:IP]          listen to TCP PORT on IP
  pssl:PORT[:IP]          listen for SSL on PORT on IP
  punix:FILE              listen on Unix domain socket FILE
PKI configuration (required to use SSL):
  -p, --private-key=FILE  file with private key
  -c, --certificate=FILE  file with certificate for private key
  -C, --ca-cert=FILE      file with peer CA certificate
  --bootstrap-ca-cert=FILE  file with peer CA certificate to read or create
SSL options:
  --ssl-protocols=PROTOS  list of SSL protocols to enable
  --ssl-ciphers=CIPHERS   list of SSL ciphers to enable

Other options:
  -h, --help                  display this help message
  -V, --version               display version information
"""


DB_USAGE = """\
Database commands:
  list TBL [REC]              list RECord (or all records) in TBL
  find TBL CONDITION...       list records satisfying CONDITION in TBL
  get TBL REC COL[:KEY]       print values of COLumns in RECord in TBL
  set TBL REC COL[:KEY]=VALUE set COLumn values in RECord in TBL
  add TBL REC COL [KEY=]VALUE add (KEY=)VALUE to COLumn in RECord in TBL
  remove TBL REC COL [KEY=]VALUE  remove (KEY=)VALUE from COLumn
  clear TBL REC COL           clear values from COLumn in RECord in TBL
  create TBL COL[:KEY]=VALUE  create and initialize new record
  destroy TBL REC             delete RECord from TBL
  wait-until TBL REC [COL[:KEY]=VALUE]  wait until condition is true
Potentially unsafe database commands require --force option.
"""



def _tables_usage() -> str:
    """How each table's rows may be named (``ctl_list_db_tables_usage``)."""
    schema = _schema()
    lines = ["Database commands may reference a row in each table in the following ways:"]
    for name in sorted(schema.tables):
        lines.append(f"  {name}:")
        lines.append("    by UUID")
        if schema.tables[name].max_rows == 1:
            lines.append('    as "."')
        for rid in TABLE_CLASSES.get(name, TableClass()).row_ids:
            if rid.uuid_column is not None:
                text = f'via "{rid.uuid_column}"'
                if rid.table != name:
                    text += f" of {rid.table}"
                col = f"{rid.name_column}:{rid.key}" if rid.key else rid.name_column
                text += f' with matching "{col}"'
            elif rid.key is not None:
                text = f'by "{rid.name_column}:{rid.key}"'
            else:
                text = f'by "{rid.name_column}"'
            lines.append(f"    {text}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
