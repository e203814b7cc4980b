"""``add-tlv-map``, ``del-tlv-map``, ``dump-tlv-map``: the tunnel-metadata TLV table.

As ovs-ofctl (``ofctl_tlv_mod``): the mappings are parsed first (OVS's
``{class=C,type=T,len=L}->tun_metadataN`` list), the message goes out in a
protocol with NXM or OXM matches (an OpenFlow 1.0 connection switches to
NXM), and ``del-tlv-map`` without mappings clears the table.  The dump is a
plain request whose reply is printed.
"""

from __future__ import annotations

from pyovs.cli.cmdline import Command, Fatal
from pyovs.cli.ofctl_swbase import SwitchBase
from pyovs.openflow.codec import Unparsed
from pyovs.openflow.errors import ParseError
from pyovs.openflow.msg_tlv import TLV_ADD, TLV_CLEAR, TLV_DELETE, TlvTableMod, parse_tlv_mappings
from pyovs.openflow.protocols import NXM_OXM_ANY

__all__ = ["TlvCommands"]


class TlvCommands(SwitchBase):
    """The TLV table commands."""

    def _tlv_mod(self, args: list[str], command: int) -> None:
        try:
            mappings = parse_tlv_mappings(args[1] if len(args) > 1 else "")
        except ParseError as e:
            raise Fatal(str(e)) from None
        v, _ = self._open_for_mod(args[0], NXM_OXM_ANY)
        try:
            self._noreply(v, TlvTableMod(command, mappings))
        finally:
            v.close()

    def add_tlv_map(self, args: list[str]) -> None:
        self._tlv_mod(args, TLV_ADD)

    def del_tlv_map(self, args: list[str]) -> None:
        self._tlv_mod(args, TLV_DELETE if len(args) > 1 else TLV_CLEAR)

    def dump_tlv_map(self, args: list[str]) -> None:
        v = self._vconn(args[0])
        try:
            self._dump(v, Unparsed(b""), "NXT_TLV_TABLE_REQUEST")
        finally:
            v.close()

    def tlv_commands(self) -> list[Command]:
        return [
            Command("add-tlv-map", None, 2, 2, self.add_tlv_map),
            Command("del-tlv-map", None, 1, 2, self.del_tlv_map),
            Command("dump-tlv-map", None, 1, 1, self.dump_tlv_map),
        ]
