"""pyovs-ofctl's switch and offline commands other than flow tables
(``ovs-ofctl`` ``show``, ``ofp-print``).

``show`` asks for the features, the port descriptions (OpenFlow 1.3+) and
the switch config, with the same xids as ovs-ofctl, and prints each reply
as ``ofp_print`` does.  ``ofp-print`` decodes hex (or raw bytes with
``--raw``) and prints it.
"""

from __future__ import annotations

import sys

from pyovs.cli.cmdline import Command, Fatal
from pyovs.cli.ofctl_base import OfctlBase
from pyovs.openflow.act_wire import atoi
from pyovs.openflow.msg_basic import FeaturesRequest, GetConfigRequest
from pyovs.openflow.msg_port import PortDescRequest
from pyovs.openflow.ofprint import ofp_to_string

__all__ = ["SwitchCommands", "parse_hex"]


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


class SwitchCommands(OfctlBase):
    """Commands about the switch as a whole, and the offline ones."""

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

    def switch_commands(self) -> list[Command]:
        return [
            Command("show", None, 1, 1, self.show),
            Command("ofp-print", None, 1, 2, self.ofp_print),
        ]
