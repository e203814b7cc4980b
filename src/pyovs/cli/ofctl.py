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
* commands come from the groups' tables (``Ofctl.commands``) checked by
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
from pyovs.cli.ofctl_base import Options
from pyovs.cli.ofctl_flow import (
    protocols_from_string,
    protocols_from_versions,
    protocols_to_string,
    version_names,
    versions_from_protocols,
)
from pyovs.cli.ofctl_flowio import arm_timeout
from pyovs.cli.ofctl_flows import FlowCommands
from pyovs.cli.ofctl_fte import sort_criterion
from pyovs.cli.ofctl_monitor import packet_in_format
from pyovs.cli.ofctl_switch import SwitchCommands, parse_hex
from pyovs.cli.ofctl_usage import usage
from pyovs.openflow.ctext import str_to_uint
from pyovs.openflow.protocols import OF13_UP, Protocol

__all__ = ["Ofctl", "Options", "command_names", "main", "parse_hex", "versions_from_string"]

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


def versions_from_string(s: str) -> int:
    """``ofputil_versions_from_string``: the bitmap of versions named in ``s``."""
    bitmap = 0
    for key in s.replace(",", " ").split():
        version = _VERSION_NAMES.get(key.lower())
        if version is None:
            raise Fatal(f'Unknown OpenFlow version: "{key}"')
        bitmap |= 1 << version
    return bitmap


def _usage(program: str) -> str:
    """ovs-ofctl's help text, with the commands implemented so far (``ofctl_usage``)."""
    return usage(program, command_names())


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
            timeout = str_to_uint(arg, 10)
            if not timeout:
                raise Fatal(f"value {arg} on -t or --timeout is invalid")
            opts.timeout = timeout
        elif name in ("--sort", "--rsort"):
            opts.sort.append(sort_criterion(arg or None, name == "--rsort"))
        elif name == "--bundle":
            opts.bundle = True
        elif name == "--readd":
            opts.readd = True
        else:
            if name == "--packet-in-format":
                packet_in_format(arg)  # refused here, as ovs-ofctl does
            opts.other.append((name, arg))
    if opts.sort:
        opts.sort.append(sort_criterion(None, True))
    if opts.bundle and not opts.versions & versions_from_protocols(OF13_UP):
        # Implicit OpenFlow 1.4 for --bundle, as ovs-ofctl.
        opts.versions = versions_from_protocols(Protocol.OF14_OXM)
    version_protocols = protocols_from_versions(opts.versions)
    if not opts.allowed & version_protocols:
        raise Fatal(f"None of the enabled OpenFlow versions ({version_names(opts.versions)}) "
                    "supports any of the enabled flow formats "
                    f"({protocols_to_string(opts.allowed)}).  (Use -O to enable "
                    "additional OpenFlow versions or -F to enable additional flow formats.)")
    opts.allowed &= version_protocols
    opts.versions &= versions_from_protocols(opts.allowed)
    return opts, operands


class Ofctl(FlowCommands, SwitchCommands):
    """One run of the tool: the command groups together."""

    def commands(self) -> list[Command]:
        return self.flow_commands() + self.switch_commands()


def command_names() -> list[str]:
    """The commands implemented so far (the rest of ovs-ofctl's table is to come)."""
    return [c.name for c in Ofctl("ovs-ofctl", Options()).commands()]


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
        arm_timeout(opts.timeout)
        run_command(Ofctl(program, opts).commands(), words)

    return main_wrapper(program, body)


if __name__ == "__main__":
    sys.exit(main())
