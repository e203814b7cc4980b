"""ovs-ofctl's ``--help`` text, listing only the commands pyovs-ofctl has.

``list-commands`` prints ``COMMAND_TABLE``, ovs-ofctl's own command table
(order and usage strings), restricted the same way.

The text is ovs-ofctl 3.1's ``usage()`` (utilities/ovs-ofctl.c plus the
option blocks it appends: connection methods, PKI, daemon, OpenFlow
version, logging, other options), kept as data: ``_COMMAND_LINES`` pairs
each line with the command it documents (continuation lines included), so
a command appears in the help once it is in the command table and the
layout otherwise stays ovs-ofctl's byte for byte.  Lines paired with None
(headings, blank lines) always print.  Defaults that OVS derives from its
run and log directories and program name are filled in the same way.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import Final

__all__ = ["COMMAND_TABLE", "list_commands", "usage"]

_COMMAND_LINES: Final[tuple[tuple[str | None, str], ...]] = (
    (None, 'For OpenFlow switches:'),
    ('show', '  show SWITCH                 show OpenFlow information'),
    ('dump-desc', '  dump-desc SWITCH            print switch description'),
    ('dump-tables', '  dump-tables SWITCH          print table stats'),
    ('dump-table-features', '  dump-table-features SWITCH  print table features'),
    ('dump-table-desc', '  dump-table-desc SWITCH      print table description (OF1.4+)'),
    ('mod-port', '  mod-port SWITCH IFACE ACT   modify port behavior'),
    ('mod-table', '  mod-table SWITCH MOD        modify flow table behavior'),
    ('mod-table', '      OF1.1/1.2 MOD: controller, continue, drop'),
    ('mod-table', '      OF1.4+ MOD: evict, noevict, vacancy:low,high, novacancy'),
    ('get-frags', '  get-frags SWITCH            print fragment handling behavior'),
    ('set-frags', '  set-frags SWITCH FRAG_MODE  set fragment handling behavior'),
    ('set-frags', '      FRAG_MODE: normal, drop, reassemble, nx-match'),
    ('dump-ports', '  dump-ports SWITCH [PORT]    print port statistics'),
    ('dump-ports-desc', '  dump-ports-desc SWITCH [PORT]  print port descriptions'),
    ('dump-flows', '  dump-flows SWITCH           print all flow entries'),
    ('dump-flows', '  dump-flows SWITCH FLOW      print matching FLOWs'),
    ('dump-aggregate', '  dump-aggregate SWITCH       print aggregate flow statistics'),
    ('dump-aggregate', '  dump-aggregate SWITCH FLOW  print aggregate stats for FLOWs'),
    ('queue-stats', '  queue-stats SWITCH [PORT [QUEUE]]  dump queue stats'),
    ('add-flow', '  add-flow SWITCH FLOW        add flow described by FLOW'),
    ('add-flows', '  add-flows SWITCH FILE       add flows from FILE'),
    ('mod-flows', '  mod-flows SWITCH FLOW       modify actions of matching FLOWs'),
    ('del-flows', '  del-flows SWITCH [FLOW]     delete matching FLOWs'),
    ('replace-flows', '  replace-flows SWITCH FILE   replace flows with those in FILE'),
    ('diff-flows', '  diff-flows SOURCE1 SOURCE2  compare flows from two sources'),
    ('packet-out', '  packet-out SWITCH IN_PORT ACTIONS PACKET...'),
    ('packet-out', '                              execute ACTIONS on PACKET'),
    ('monitor', '  monitor SWITCH [MISSLEN] [invalid_ttl] [watch:[...]]'),
    ('monitor', '                              print packets received from SWITCH'),
    ('snoop', '  snoop SWITCH                snoop on SWITCH and its controller'),
    ('add-group', '  add-group SWITCH GROUP      add group described by GROUP'),
    ('add-groups', '  add-groups SWITCH FILE      add group from FILE'),
    ('mod-group', '  [--may-create] mod-group SWITCH GROUP   modify specific group'),
    ('del-groups', '  del-groups SWITCH [GROUP]   delete matching GROUPs'),
    ('insert-buckets', '  insert-buckets SWITCH [GROUP] add buckets to GROUP'),
    ('remove-buckets', '  remove-buckets SWITCH [GROUP] remove buckets from GROUP'),
    ('dump-group-features', '  dump-group-features SWITCH  print group features'),
    ('dump-groups', '  dump-groups SWITCH [GROUP]  print group description'),
    ('dump-group-stats', '  dump-group-stats SWITCH [GROUP]  print group statistics'),
    ('queue-get-config', '  queue-get-config SWITCH [PORT]  print queue config for PORT'),
    ('add-meter', '  add-meter SWITCH METER      add meter described by METER'),
    ('mod-meter', '  mod-meter SWITCH METER      modify specific METER'),
    ('del-meters', '  del-meters SWITCH [METER]   delete meters matching METER'),
    ('dump-meters', '  dump-meters SWITCH [METER]  print METER configuration'),
    ('meter-stats', '  meter-stats SWITCH [METER]  print meter statistics'),
    ('meter-features', '  meter-features SWITCH       print meter features'),
    ('add-tlv-map', '  add-tlv-map SWITCH MAP      add TLV option MAPpings'),
    ('del-tlv-map', '  del-tlv-map SWITCH [MAP] delete TLV option MAPpings'),
    ('dump-tlv-map', '  dump-tlv-map SWITCH      print TLV option mappings'),
    ('dump-ipfix-bridge', '  dump-ipfix-bridge SWITCH    print ipfix stats of bridge'),
    ('dump-ipfix-flow', '  dump-ipfix-flow SWITCH      print flow ipfix of a bridge'),
    ('ct-flush-zone', '  ct-flush-zone SWITCH ZONE   flush conntrack entries in ZONE'),
    ('ct-flush', '  ct-flush SWITCH [ZONE] [CT_ORIG_TUPLE [CT_REPLY_TUPLE]]'),
    ('ct-flush', '                              flush conntrack entries specified'),
    ('ct-flush', '                              by CT_ORIG/REPLY_TUPLE and ZONE'),
    (None, ''),
    (None, 'For OpenFlow switches and controllers:'),
    ('probe', '  probe TARGET                probe whether TARGET is up'),
    ('ping', '  ping TARGET [N]             latency of N-byte echos'),
    ('benchmark', '  benchmark TARGET N COUNT    bandwidth of COUNT N-byte echos'),
    (None, 'SWITCH or TARGET is an active OpenFlow connection method.'),
    (None, ''),
    (None, 'Other commands:'),
    ('ofp-parse', '  ofp-parse FILE              print messages read from FILE'),
    ('ofp-parse-pcap', '  ofp-parse-pcap PCAP         print OpenFlow read from PCAP'),
    (None, ''),
)

_OPTION_LINES: Final = (
    'Active OpenFlow connection methods:',
    '  tcp:HOST[:PORT]         PORT (default: 6653) at remote HOST',
    '  ssl:HOST[:PORT]         SSL PORT (default: 6653) at remote HOST',
    '  unix:FILE               Unix domain socket named FILE',
    'PKI configuration (required to use SSL):',
    '  -p, --private-key=FILE  file with private key',
    '  -c, --certificate=FILE  file with certificate for private key',
    '  -C, --ca-cert=FILE      file with peer CA certificate',
    '',
    'Daemon options:',
    '  --detach                run in background as daemon',
    '  --monitor               creates a process to monitor this daemon',
    '  --user=username[:group] changes the effective daemon user:group',
    "  --no-chdir              do not chdir to '/'",
    '  --pidfile[=FILE]        create pidfile (default: {rundir}/{program}.pid)',
    '  --overwrite-pidfile     with --pidfile, start even if already running',
    '',
    'OpenFlow version options:',
    '  -V, --version           display version information',
    '  -O, --protocols         set allowed OpenFlow versions',
    '                          (default: OpenFlow10, OpenFlow11, OpenFlow12, '
    'OpenFlow13, OpenFlow14, OpenFlow15)',
    '',
    'Logging options:',
    '  -vSPEC, --verbose=SPEC   set logging levels',
    '  -v, --verbose            set maximum verbosity level',
    '  --log-file[=FILE]        enable logging to specified FILE',
    '                           (default: {logdir}/{program}.log)',
    '  --syslog-method=(libc|unix:file|udp:ip:port)',
    '                           specify how to send messages to syslog daemon',
    '  --syslog-target=HOST:PORT  also send syslog msgs to HOST:PORT via UDP',
    '',
    'Other options:',
    '  --strict                    use strict match for flow commands',
    '  --read-only                 do not execute read/write commands',
    "  --readd                     replace flows that haven't changed",
    '  -F, --flow-format=FORMAT    force particular flow format',
    '  -P, --packet-in-format=FRMT force particular packet in format',
    '  -m, --more                  be more verbose printing OpenFlow',
    '  --timestamp                 (monitor, snoop) print timestamps',
    '  -t, --timeout=SECS          give up after SECS seconds',
    '  --sort[=field]              sort in ascending order',
    '  --rsort[=field]             sort in descending order',
    '  --names                     show port names instead of numbers',
    '  --no-names                  show port numbers, but not names',
    '  --unixctl=SOCKET            set control socket name',
    '  --color[=always|never|auto] control use of color in output',
    '  -h, --help                  display this help message',
    '  -V, --version               display version information',
)


COMMAND_TABLE: Final[tuple[tuple[str, str | None], ...]] = (
    ('show', 'switch'),
    ('monitor', 'switch [misslen] [invalid_ttl] [watch:[...]]'),
    ('snoop', 'switch'),
    ('dump-desc', 'switch'),
    ('dump-tables', 'switch'),
    ('dump-table-features', 'switch'),
    ('dump-table-desc', 'switch'),
    ('dump-flows', 'switch'),
    ('dump-aggregate', 'switch'),
    ('queue-stats', 'switch [port [queue]]'),
    ('queue-get-config', 'switch [port [queue]]'),
    ('add-flow', 'switch flow'),
    ('add-flows', 'switch file'),
    ('mod-flows', 'switch flow'),
    ('del-flows', 'switch [flow]'),
    ('replace-flows', 'switch file'),
    ('diff-flows', 'source1 source2'),
    ('add-meter', 'switch meter'),
    ('mod-meter', 'switch meter'),
    ('del-meter', 'switch meter'),
    ('del-meters', 'switch'),
    ('dump-meter', 'switch meter'),
    ('dump-meters', 'switch'),
    ('meter-stats', 'switch [meter]'),
    ('meter-features', 'switch'),
    ('packet-out', 'switch "in_port=<port> packet=<hex data> actions=..."'),
    ('dump-ports', 'switch [port]'),
    ('dump-ports-desc', 'switch [port]'),
    ('mod-port', 'switch iface act'),
    ('mod-table', 'switch mod'),
    ('get-frags', 'switch'),
    ('set-frags', 'switch frag_mode'),
    ('probe', 'target'),
    ('ping', 'target [n]'),
    ('benchmark', 'target n count'),
    ('dump-ipfix-bridge', 'switch'),
    ('dump-ipfix-flow', 'switch'),
    ('ct-flush-zone', 'switch zone'),
    ('ct-flush', 'switch [zone=N] [ct-orig-tuple [ct-reply-tuple]]'),
    ('ofp-parse', 'file'),
    ('ofp-parse-pcap', 'pcap'),
    ('add-group', 'switch group'),
    ('add-groups', 'switch file'),
    ('mod-group', 'switch group'),
    ('del-groups', 'switch [group]'),
    ('insert-buckets', 'switch [group]'),
    ('remove-buckets', 'switch [group]'),
    ('dump-groups', 'switch [group]'),
    ('dump-group-stats', 'switch [group]'),
    ('dump-group-features', 'switch'),
    ('bundle', 'switch file'),
    ('add-tlv-map', 'switch map'),
    ('del-tlv-map', 'switch [map]'),
    ('dump-tlv-map', 'switch'),
    ('help', None),
    ('list-commands', None),
    ('parse-flow', None),
    ('parse-flows', None),
    ('parse-group', None),
    ('parse-nx-match', None),
    ('parse-nxm', None),
    ('parse-oxm', None),
    ('parse-actions', None),
    ('parse-instructions', None),
    ('parse-ofp10-match', None),
    ('parse-ofp11-match', None),
    ('parse-pcap', None),
    ('check-vlan', None),
    ('print-error', None),
    ('encode-error-reply', None),
    ('ofp-print', None),
    ('encode-hello', None),
    ('parse-key-value', None),
    ('compose-packet', None),
    ('parse-packet', None),
)
"""ovs-ofctl's command table in its order, with each command's usage (None for the
undocumented testing commands), as ``list-commands`` prints it."""


def list_commands(commands: Collection[str]) -> str:
    """``ovs_cmdl_print_commands`` over the commands that exist, in ovs-ofctl's order."""
    return "The available commands are:\n" + "".join(
        f"  {name:<23} {use or ''}\n" for name, use in COMMAND_TABLE if name in commands)


def usage(program: str, commands: Collection[str]) -> str:
    """The help text for ``program`` with the commands in ``commands``."""
    rundir = os.environ.get("OVS_RUNDIR") or "/var/run/openvswitch"
    logdir = os.environ.get("OVS_LOGDIR") or "/var/log/openvswitch"
    lines = [f"{program}: OpenFlow switch management utility",
             f"usage: {program} [OPTIONS] COMMAND [ARG...]", ""]
    lines += [text for command, text in _COMMAND_LINES
              if command is None or command in commands]
    lines += [text.format(program=program, rundir=rundir, logdir=logdir)
              for text in _OPTION_LINES]
    return "\n".join(lines) + "\n"
