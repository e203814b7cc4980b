"""pyovs-ofctl's group and meter commands (ovs-ofctl ``*-group(s)``, ``*-meter(s)``).

Group and meter text is parsed by the library (``openflow.group_text``,
``openflow.meter_text``); this module is the command edge, in ovs-ofctl's
order of events, which the xids and the error precedence depend on:

1. parse the text (group text first spends the name-lookup xids, as
   ovs-ofctl's ``ports_to_accept``/``tables_to_accept`` do; meter text
   needs no names); a parse error is fatal before any connection;
2. check the protocols the message needs against ``-O``/``-F``
   (``open_vconn_for_flow_mod``), then connect;
3. send each mod followed by a barrier; a switch error is printed on
   stderr and the command fails.

The group commands table (``_GROUP_COMMANDS``) maps each command to its
group-mod command; ``add-groups``, and any group command given ``-`` as
its argument, read one group per line, where ``add`` lines may name their
own command.
"""

from __future__ import annotations

import os
import sys
from typing import Final

from pyovs.cli.cmdline import Command, Fatal
from pyovs.cli.ofctl_swbase import VLOG, SwitchBase
from pyovs.openflow.errors import ParseError
from pyovs.openflow.group_text import (
    LINE_COMMAND,
    assign_bucket_ids,
    group_from_string,
    parse_group_mod,
)
from pyovs.openflow.meter_text import METER_REQUEST, parse_meter_mod
from pyovs.openflow.msg_basic import GroupFeaturesRequest, MeterFeaturesRequest
from pyovs.openflow.msg_group import (
    GC_ADD,
    GC_ADD_OR_MOD,
    GC_DELETE,
    GC_INSERT_BUCKET,
    GC_MODIFY,
    GC_REMOVE_BUCKET,
    OFPG_ALL,
    GroupDescRequest,
    GroupMod,
    GroupStatsRequest,
)
from pyovs.openflow.msg_stats import (
    MC_ADD,
    MC_DELETE,
    MC_MODIFY,
    MeterConfig,
    MeterConfigRequest,
    MeterMod,
    MeterStatsRequest,
)
from pyovs.openflow.protocols import OF13_UP

__all__ = ["GroupCommands", "read_lines"]

_METER_ALL: Final = 0xFFFFFFFF
_OLD_VERSION_COMMANDS: Final = {GC_INSERT_BUCKET: "insert-bucket",
                                GC_REMOVE_BUCKET: "remove-bucket"}


def read_lines(name: str) -> list[tuple[int, str]]:
    """``ds_get_preprocessed_line``: (line number, text) without comments or blanks."""
    try:
        if name == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(name, encoding="utf-8", errors="surrogateescape") as f:
                lines = f.read().splitlines()
    except OSError as e:
        raise Fatal(f"{name}: open failed ({os.strerror(e.errno or 0)})") from None
    out = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if text:
            out.append((number, text))
    return out


class GroupCommands(SwitchBase):
    """Group tables and meters."""

    # --- groups ---------------------------------------------------------------

    def _send_group_mods(self, name: str, gms: list[GroupMod], usable: int) -> None:
        """``ofctl_group_mod__``: each group mod with a barrier, errors fatal."""
        v, _protocol = self._open_for_mod(name, usable)
        try:
            for gm in gms:
                if 1 < v.version < 6 and gm.command in _OLD_VERSION_COMMANDS:
                    # ofputil_encode_ofp11_group_mod's bad_group_cmd
                    raise Fatal(f"{_OLD_VERSION_COMMANDS[gm.command]} needs OpenFlow 1.5 "
                                "or later ('-O OpenFlow15')")
                self._noreply(v, assign_bucket_ids(gm) if v.version in (1, 6) else gm)
        finally:
            v.close()

    def _group_file(self, args: list[str], command: int) -> None:
        name = args[0]
        port_map, table_map = self._accept_names(name)
        if command == GC_ADD:
            command = LINE_COMMAND
        gms: list[GroupMod] = []
        usable = (1 << 9) - 1
        for number, text in read_lines(args[1]):
            try:
                gm, got = parse_group_mod(text, command, port_map, table_map)
            except ParseError as e:
                raise Fatal(f"{args[1]}:{number}: {e}") from None
            gms.append(gm)
            usable &= got
        self._send_group_mods(name, gms, usable)

    def _group_mod(self, args: list[str], command: int) -> None:
        if len(args) > 1 and args[1] == "-":
            self._group_file(args, command)
            return
        name = args[0]
        port_map, table_map = self._accept_names(name)
        try:
            gm, usable = parse_group_mod(args[1] if len(args) > 1 else "", command,
                                         port_map, table_map)
        except ParseError as e:
            raise Fatal(str(e)) from None
        self._send_group_mods(name, [gm], usable)

    def add_group(self, args: list[str]) -> None:
        self._group_mod(args, GC_ADD)

    def add_groups(self, args: list[str]) -> None:
        self._group_file(args, GC_ADD)

    def mod_group(self, args: list[str]) -> None:
        may_create = any(n == "--may-create" for n, _ in self.opts.other)
        self._group_mod(args, GC_ADD_OR_MOD if may_create else GC_MODIFY)

    def del_groups(self, args: list[str]) -> None:
        self._group_mod(args, GC_DELETE)

    def insert_buckets(self, args: list[str]) -> None:
        self._group_mod(args, GC_INSERT_BUCKET)

    def remove_buckets(self, args: list[str]) -> None:
        self._group_mod(args, GC_REMOVE_BUCKET)

    def dump_group_stats(self, args: list[str]) -> None:
        """``dump-group-stats SWITCH [GROUP]`` (GROUP as del-groups text)."""
        name = args[0]
        port_map, table_map = self._accept_names(name)
        try:
            gm, _ = parse_group_mod(args[1] if len(args) > 1 else "", GC_DELETE,
                                    port_map, table_map)
        except ParseError as e:
            raise Fatal(str(e)) from None
        v = self._vconn(name)
        try:
            self._dump(v, GroupStatsRequest(gm.group_id))
        finally:
            v.close()

    def dump_groups(self, args: list[str]) -> None:
        """``dump-groups SWITCH [GROUP]``: group descriptions."""
        v = self._vconn(args[0])
        try:
            group_id = group_from_string(args[1]) if len(args) > 1 else None
            if group_id is None and len(args) > 1:
                VLOG.warn("ofp_group", f"{args[1]} is not a valid group ID.  (Valid group IDs "
                          "are 32-bit nonnegative integers or the keywords ANY or ALL.)")
            self._dump(v, GroupDescRequest(OFPG_ALL if group_id is None else group_id))
        finally:
            v.close()

    def dump_group_features(self, args: list[str]) -> None:
        v = self._vconn(args[0])
        try:
            self._dump(v, GroupFeaturesRequest())
        finally:
            v.close()

    # --- meters ---------------------------------------------------------------

    def _meter_mod(self, args: list[str], command: int) -> None:
        """``ofctl_meter_mod__``."""
        if len(args) > 1:
            try:
                mm, usable = parse_meter_mod(args[1], command)
            except ParseError as e:
                raise Fatal(str(e)) from None
        else:
            mm, usable = MeterMod(command, MeterConfig(_METER_ALL)), OF13_UP
        v, _ = self._open_for_mod(args[0], usable)
        try:
            self._noreply(v, mm)
        finally:
            v.close()

    def _meter_request(self, args: list[str], kind: str) -> None:
        """``ofctl_meter_request__``: config, stats or features."""
        meter_id = _METER_ALL
        if len(args) > 1 and kind != "features":
            try:
                meter_id = parse_meter_mod(args[1], METER_REQUEST)[0].meter.meter_id
            except ParseError as e:
                raise Fatal(str(e)) from None
        v, _ = self._open_for_mod(args[0], OF13_UP)
        try:
            if kind == "config":
                self._dump(v, MeterConfigRequest(meter_id))
            elif kind == "stats":
                self._dump(v, MeterStatsRequest(meter_id))
            else:
                self._dump(v, MeterFeaturesRequest())
        finally:
            v.close()

    def add_meter(self, args: list[str]) -> None:
        self._meter_mod(args, MC_ADD)

    def mod_meter(self, args: list[str]) -> None:
        self._meter_mod(args, MC_MODIFY)

    def del_meters(self, args: list[str]) -> None:
        self._meter_mod(args, MC_DELETE)

    def dump_meters(self, args: list[str]) -> None:
        self._meter_request(args, "config")

    def meter_stats(self, args: list[str]) -> None:
        self._meter_request(args, "stats")

    def meter_features(self, args: list[str]) -> None:
        self._meter_request(args, "features")

    def group_commands(self) -> list[Command]:
        return [
            Command("add-meter", None, 2, 2, self.add_meter),
            Command("mod-meter", None, 2, 2, self.mod_meter),
            Command("del-meter", None, 1, 2, self.del_meters),
            Command("del-meters", None, 1, 2, self.del_meters),
            Command("dump-meter", None, 1, 2, self.dump_meters),
            Command("dump-meters", None, 1, 2, self.dump_meters),
            Command("meter-stats", None, 1, 2, self.meter_stats),
            Command("meter-features", None, 1, 1, self.meter_features),
            Command("add-group", None, 1, 2, self.add_group),
            Command("add-groups", None, 2, 2, self.add_groups),
            Command("mod-group", None, 1, 2, self.mod_group),
            Command("del-groups", None, 1, 2, self.del_groups),
            Command("insert-buckets", None, 1, 2, self.insert_buckets),
            Command("remove-buckets", None, 1, 2, self.remove_buckets),
            Command("dump-groups", None, 1, 2, self.dump_groups),
            Command("dump-group-stats", None, 1, 2, self.dump_group_stats),
            Command("dump-group-features", None, 1, 1, self.dump_group_features),
        ]

