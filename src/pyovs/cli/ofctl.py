"""``pyovs-ofctl``: the ovs-ofctl command line on the pyovs OpenFlow library.

A drop-in for ``ovs-ofctl`` (utilities/ovs-ofctl.c in OVS 3.1): the same
options, command names, argument counts, messages and exit codes, so that
scripts written for one run with the other.  The protocol work lives in
``pyovs.openflow``; this module is only the edge that turns a command line
into calls on it and prints the results:

* options are parsed by ``cmdline.getopt_long`` (GNU permutation, glibc's
  error texts) from ovs-ofctl's own option table, so an option ovs-ofctl
  accepts is never "unrecognized" here even where it has no effect yet;
* ``-O``/``--protocols`` is ``ofputil_versions_from_string``: names
  separated by commas or white space, case-insensitive, a bad one fatal;
  the default is OpenFlow10 only, as ovs-ofctl;
* commands come from one table (``COMMANDS``) checked by
  ``cmdline.run_command``, which words missing/extra argument errors as
  ``ovs_cmdl_run_command`` does.

Offline commands (``ofp-print``, ``parse-flow[s]``) need no switch; the
switch commands (``show``, ``dump-flows``, ``add-flow``, ``del-flows``) find
their target with ``ofctl_target`` and talk through ``ofctl_session``.
What they print is the library's ``ofp_to_string`` of each reply, as
ovs-ofctl prints with ``ofp_print``, so the xids in those lines must be the
ones ovs-ofctl would use (see ``_open`` and ``show``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Final

from pyovs import __version__
from pyovs.cli.cmdline import (
    VLOG_LONG_OPTIONS,
    VLOG_SHORT_OPTIONS,
    Command,
    Fatal,
    getopt_long,
    main_wrapper,
    run_command,
)
from pyovs.cli.ofctl_flow import (
    choose_protocol,
    parse_flow_mod,
    protocol_name,
    protocol_version,
    protocols_from_string,
    protocols_from_versions,
    protocols_to_string,
    version_names,
)
from pyovs.cli.ofctl_session import Session
from pyovs.cli.ofctl_target import open_target
from pyovs.openflow import codec
from pyovs.openflow.act_wire import atoi
from pyovs.openflow.codec import Message
from pyovs.openflow.msg_basic import ErrorMsg, FeaturesRequest, GetConfigRequest
from pyovs.openflow.msg_flow import Command as FlowCommand
from pyovs.openflow.msg_flow import FlowMod
from pyovs.openflow.msg_flowstats import FlowStatsReply, FlowStatsRequest, format_flow_stats
from pyovs.openflow.msg_port import PortDescRequest
from pyovs.openflow.ofprint import ofp_to_string
from pyovs.openflow.protocols import ANY, OF10_NXM_ANY, OF10_STD_ANY, Protocol

__all__ = ["COMMANDS", "Options", "main", "parse_hex", "versions_from_string"]

_VERSION_NAMES: Final = {
    "openflow10": 1, "openflow11": 2, "openflow12": 3,
    "openflow13": 4, "openflow14": 5, "openflow15": 6,
}

_LONG_OPTIONS: Final = (
    "timeout=", "strict", "readd", "flow-format=", "packet-in-format=", "more",
    "timestamp", "sort==", "rsort==", "names", "no-names", "stats", "no-stats",
    "unixctl=", "help", "option", "bundle", "color==", "may-create", "pcap",
    "raw", "read-only",
    # DAEMON_LONG_OPTIONS
    "detach", "no-chdir", "no-self-confinement", "pidfile==", "overwrite-pidfile",
    "monitor", "user=",
    # OFP_VERSION_LONG_OPTIONS
    "version", "protocols=",
    *VLOG_LONG_OPTIONS,
    # STREAM_SSL_LONG_OPTIONS
    "private-key=", "certificate=", "ca-cert=", "ssl-protocols=", "ssl-ciphers=",
)
_SHORT_OPTIONS: Final = "t:F:P:mhoVO:p:c:C:" + VLOG_SHORT_OPTIONS
_SHORT_TO_LONG: Final = {
    "-t": "--timeout", "-F": "--flow-format", "-P": "--packet-in-format",
    "-m": "--more", "-h": "--help", "-o": "--option", "-V": "--version",
    "-O": "--protocols", "-p": "--private-key", "-c": "--certificate",
    "-C": "--ca-cert", "-v": "--verbose",
}


@dataclass(slots=True)
class Options:
    """The global options that change what a command does."""

    versions: int = 1 << 1
    """Allowed OpenFlow versions, a bitmap indexed by wire version (OF1.0 = bit 1)."""
    raw: bool = False
    """``--raw``: ``ofp-print -`` reads binary, not hex, from stdin."""
    strict: bool = False
    names: bool | None = None
    stats: bool = True
    allowed: int = ANY
    """Flow protocols allowed by ``-F`` and ``-O`` together (``allowed_protocols``)."""
    verbosity: int = 0
    """``-m``/``--more``, once per level."""
    timeout: int = 0
    other: list[tuple[str, str]] = field(default_factory=list)
    """Accepted options without an effect yet (SSL, daemon, logging)."""


def versions_from_string(s: str) -> int:
    """``ofputil_versions_from_string``: the bitmap of versions named in ``s``."""
    bitmap = 0
    for key in s.replace(",", " ").split():
        version = _VERSION_NAMES.get(key.lower())
        if version is None:
            raise Fatal(f'Unknown OpenFlow version: "{key}"')
        bitmap |= 1 << version
    return bitmap


def parse_hex(s: str) -> tuple[bytes, str]:
    """``ofpbuf_put_hex``: hex byte pairs, separated by any of `` .\\t\\r\\n``.

    Returns the bytes and the text left over where a pair could not be read.
    """
    out = bytearray()
    i, n = 0, len(s)
    while True:
        while i < n and s[i] in " .\t\r\n":
            i += 1
        pair = s[i:i + 2]
        if len(pair) < 2 or any(c not in "0123456789abcdefABCDEF" for c in pair):
            return bytes(out), s[i:]
        out.append(int(pair, 16))
        i += 2


def _usage(program: str) -> str:
    return (
        f"{program}: OpenFlow switch management utility\n"
        f"usage: {program} [OPTIONS] COMMAND [ARG...]\n"
        "\nFor OpenFlow switches:\n"
        "  show SWITCH                 show OpenFlow information\n"
        "  dump-flows SWITCH           print all flow entries\n"
        "  dump-flows SWITCH FLOW      print matching FLOWs\n"
        "  add-flow SWITCH FLOW        add flow described by FLOW\n"
        "  del-flows SWITCH            delete all flows\n"
        "  del-flows SWITCH FLOW       delete matching FLOWs\n"
        "\nOther commands:\n"
        "  ofp-print HEXSTRING [VERBOSITY]  print HEXSTRING as OpenFlow message\n"
        "  ofp-print - [VERBOSITY]     read HEXSTRING from stdin\n"
        "  ofp-print --raw - [VERBOSITY]  read raw binary message from stdin\n"
        "\nOptions:\n"
        "  -O, --protocols=LIST        allowed OpenFlow versions (default: OpenFlow10)\n"
        "  --strict                    use strict match for flow commands\n"
        "  --names, --no-names         show port and table names\n"
        "  --no-stats                  do not show flow statistics in dump-flows\n"
        "  -t, --timeout=SECS          give up after SECS seconds\n"
        "  -h, --help                  display this help message\n"
        "  -V, --version               display version information\n"
    )


def parse_options(program: str, argv: list[str]) -> tuple[Options, list[str]]:
    """Parse ovs-ofctl's options (``argv`` without argv[0]); return them and the words.

    ``SystemExit`` ends the run for ``--help`` and ``--version``.
    """
    opts = Options()
    parsed, operands = getopt_long(program, argv, _SHORT_OPTIONS, _LONG_OPTIONS)
    for name, arg in parsed:
        name = _SHORT_TO_LONG.get(name, name)
        if name == "--help":
            sys.stdout.write(_usage(program))
            raise SystemExit(0)
        if name == "--version":
            sys.stdout.write(f"{program} (pyovs) {__version__}\n")
            raise SystemExit(0)
        if name == "--protocols":
            opts.versions = versions_from_string(arg)
        elif name == "--raw":
            opts.raw = True
        elif name == "--strict":
            opts.strict = True
        elif name in ("--names", "--no-names"):
            opts.names = name == "--names"
        elif name in ("--stats", "--no-stats"):
            opts.stats = name == "--stats"
        elif name == "--flow-format":
            opts.allowed = protocols_from_string(arg)
        elif name == "--more":
            opts.verbosity += 1
        elif name == "--timeout":
            opts.timeout = atoi(arg)
        else:
            opts.other.append((name, arg))
    version_protocols = protocols_from_versions(opts.versions)
    if not opts.allowed & version_protocols:
        raise Fatal(f"None of the enabled OpenFlow versions ({version_names(opts.versions)}) "
                    "supports any of the enabled flow formats "
                    f"({protocols_to_string(opts.allowed)}).  (Use -O to enable "
                    "additional OpenFlow versions or -F to enable additional flow formats.)")
    opts.allowed &= version_protocols
    return opts, operands


class Ofctl:
    """One run of the tool: its options and the command handlers."""

    def __init__(self, program: str, opts: Options) -> None:
        self.program = program
        self.opts = opts
        self.xid = 0
        """The last transaction id used (OVS ``alloc_xid`` starts at 1)."""

    def ofp_print(self, args: list[str]) -> None:
        """``ofp-print HEX|- [VERBOSITY]``: print a message as OVS does."""
        verbosity = atoi(args[1]) if len(args) > 1 else 2
        if args[0] == "-":
            if self.opts.raw:
                data = sys.stdin.buffer.read()
                sys.stdout.write(ofp_to_string(data, verbosity))
                return
            text = sys.stdin.readline()
        else:
            text = args[0]
        data, rest = parse_hex(text)
        if rest:
            raise Fatal("trailing garbage following hex bytes")
        sys.stdout.write(ofp_to_string(data, verbosity))

    def _print_flow_mods(self, fms: list[FlowMod], usable: int) -> None:
        """``ofctl_parse_flows__``: the protocol chosen, then each flow mod as sent."""
        sys.stdout.write(f"usable protocols: {protocols_to_string(usable)}\n")
        protocol = choose_protocol(usable, self.opts.allowed)
        sys.stdout.write(f"chosen protocol: {protocol_name(protocol)}\n")
        for fm in fms:
            self.xid += 1
            data = codec.encode(codec.make(fm, protocol_version(protocol), self.xid,
                                           flow_mod_raw(protocol)))
            sys.stdout.write(ofp_to_string(data, self.opts.verbosity))
        sys.stdout.flush()

    def parse_flow(self, args: list[str]) -> None:
        """``parse-flow FLOW``: parse as add-flow would and print what would be sent."""
        fm, usable = parse_flow_mod(args[0])
        self._print_flow_mods([fm], usable)

    def parse_flows(self, args: list[str]) -> None:
        """``parse-flows FILE``: the same for each flow in FILE (``-`` for stdin)."""
        name = args[0]
        try:
            if name == "-":
                lines = sys.stdin.read().splitlines()
            else:
                with open(name, encoding="utf-8", errors="surrogateescape") as f:
                    lines = f.read().splitlines()
        except OSError as e:
            raise Fatal(f"{name}: open failed ({os.strerror(e.errno or 0)})") from None
        fms: list[FlowMod] = []
        usable: int = ANY
        for number, line in enumerate(lines, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                fm, got = parse_flow_mod(text)
            except Fatal as e:
                raise Fatal(f"{name}:{number}: {e.message}") from None
            fms.append(fm)
            usable &= got
        self._print_flow_mods(fms, usable)

    def _open(self, name: str, with_flow: bool = False) -> Session:
        # When a command has flow text, ovs-ofctl first reads the switch's
        # table and port names over two short connections (hello + table
        # stats, hello + features), which use xids 1-4.  pyovs does not need
        # them yet, but keeps the xids (they show in dump output) the same.
        return Session(open_target(name), self.opts.versions, name,
                       first_xid=5 if with_flow else 1)

    def _print(self, msg: Message, verbosity: int) -> None:
        sys.stdout.write(ofp_to_string(codec.encode(msg), verbosity))

    def show(self, args: list[str]) -> None:
        """``show SWITCH``: features, port descriptions, switch config."""
        s = self._open(args[0])
        try:
            verbosity = self.opts.verbosity + 1
            for m in s.transact(FeaturesRequest()):
                self._print(m, verbosity)
            if s.version >= 4:
                for m in s.transact(PortDescRequest()):
                    self._print(m, verbosity)
            # ovs-ofctl skips one xid before its get-config request (4 after
            # the features, 5 after the port descriptions); the xids show.
            for m in s.transact(GetConfigRequest(), xid=5 if s.version >= 4 else 4):
                self._print(m, verbosity)
        finally:
            s.close()

    def dump_flows(self, args: list[str]) -> None:
        """``dump-flows SWITCH [FLOW]``: the flow table, as replies or flow lines."""
        fm, usable = parse_flow_mod(args[1] if len(args) > 1 else "", FlowCommand.DELETE)
        s = self._open(args[0], len(args) > 1)
        try:
            protocol = s.set_protocol_for_dump(usable, self.opts.allowed)
            request = FlowStatsRequest(fm.match, fm.table_id, fm.out_port, fm.out_group,
                                       fm.cookie, fm.cookie_mask)
            raw = "NXST_FLOW_REQUEST" if protocol == Protocol.OF10_NXM else None
            replies = s.transact(request, raw)
            if self.opts.stats:
                for m in replies:
                    self._print(m, self.opts.verbosity + 1)
                return
            for m in replies:
                if isinstance(m.body, FlowStatsReply):
                    for fs in m.body.flows:
                        sys.stdout.write(f" {format_flow_stats(fs, show_stats=False)}\n")
                elif isinstance(m.body, ErrorMsg):
                    self._print(m, self.opts.verbosity + 1)
        finally:
            s.close()

    def _flow_mod(self, args: list[str], command: FlowCommand) -> None:
        """``add-flow``/``del-flows``: one flow mod in the best allowed protocol."""
        text = args[1] if len(args) > 1 else ""
        if command == FlowCommand.DELETE and self.opts.strict:
            command = FlowCommand.DELETE_STRICT
        fm, usable = parse_flow_mod(text, command)
        s = self._open(args[0], len(args) > 1)
        try:
            protocol = choose_protocol(usable, self.opts.allowed)
            if not s.set_protocol(protocol):
                raise Fatal("switch does not support the chosen flow format")
            raw = flow_mod_raw(protocol)
            for err in s.send_with_barrier(fm, raw):
                sys.stderr.write(ofp_to_string(codec.encode(err), self.opts.verbosity + 1))
                raise Fatal("")
        finally:
            s.close()

    def add_flow(self, args: list[str]) -> None:
        self._flow_mod(args, FlowCommand.ADD)

    def del_flows(self, args: list[str]) -> None:
        self._flow_mod(args, FlowCommand.DELETE)

    def commands(self) -> list[Command]:
        return [
            Command("show", None, 1, 1, self.show),
            Command("dump-flows", None, 1, 2, self.dump_flows),
            Command("add-flow", None, 2, 2, self.add_flow),
            Command("del-flows", None, 1, 2, self.del_flows),
            Command("parse-flow", None, 1, 1, self.parse_flow),
            Command("parse-flows", None, 1, 1, self.parse_flows),
            Command("ofp-print", None, 1, 2, self.ofp_print),
        ]


def flow_mod_raw(protocol: Protocol) -> str:
    """The flow-mod message type a protocol uses (``ofputil_encode_flow_mod``)."""
    if protocol & OF10_STD_ANY:
        return "OFPT10_FLOW_MOD"
    if protocol & OF10_NXM_ANY:
        return "NXT_FLOW_MOD"
    return "OFPT11_FLOW_MOD"


COMMANDS: Final = ("show", "dump-flows", "add-flow", "del-flows", "parse-flow",
                   "parse-flows", "ofp-print")
"""The commands implemented so far (the rest of ovs-ofctl's table is to come)."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    program = os.path.basename(argv[0]) if argv else "pyovs-ofctl"

    def body() -> None:
        try:
            opts, words = parse_options(program, argv[1:])
        except Fatal as e:
            # glibc's getopt names the program by argv[0] as given, path and all.
            sys.stderr.write(f"{argv[0] if argv else program}: {e.message}\n")
            raise Fatal("", e.status) from None
        run_command(Ofctl(program, opts).commands(), words)

    return main_wrapper(program, body)


if __name__ == "__main__":
    sys.exit(main())
