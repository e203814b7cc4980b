"""``mod-table SWITCH TABLE SETTING``: table-miss, eviction and vacancy settings.

As ovs-ofctl (``ofctl_mod_table`` over OVS's ``parse_ofp_table_mod``):

* ``parse_table_mod`` reads the setting; each names the versions that can
  carry it (``_SETTINGS``): the table-miss behaviour only OpenFlow 1.1 and
  1.2, eviction and vacancy events only 1.4 and later.  The allowed
  versions are narrowed to those before connecting, with OVS's error when
  none is left;
* with OpenFlow 1.4 or 1.5 among the versions ``-O`` allowed, each table's
  current description is fetched first (``fetch_table_desc``) so that the
  mod keeps the setting it does not change -- one exchange per table for
  ``all``;
* ``name:NAME`` renames a table as ``change_table_name`` does: the switch's
  table features are read, and sent back as a table-features request with
  the one name changed (OpenFlow 1.5: only that table, as a MODIFY).
"""

from __future__ import annotations

import sys
from typing import Final

from pyovs.cli.cmdline import Command, Fatal
from pyovs.cli.ofctl_flow import version_names
from pyovs.cli.ofctl_flowio import FlowVconn
from pyovs.cli.ofctl_swbase import SwitchBase
from pyovs.openflow import codec
from pyovs.openflow.act_wire import parse_table
from pyovs.openflow.codec import Message, Unparsed
from pyovs.openflow.connection import Closed, Received, Reply
from pyovs.openflow.ctext import str_to_int
from pyovs.openflow.errors import ParseError
from pyovs.openflow.msg_basic import ErrorMsg, TableDescRequest, TableFeaturesRequest
from pyovs.openflow.msg_stats import (
    MISS_CONTINUE,
    MISS_CONTROLLER,
    MISS_DROP,
    SETTING_DEFAULT,
    SETTING_OFF,
    SETTING_ON,
    TableMod,
)
from pyovs.openflow.msg_tabledesc import OFPTC14_EVICTION, OFPTC14_VACANCY_EVENTS
from pyovs.openflow.msg_tabledesc import TableDescReply as _TableDescReply
from pyovs.openflow.msg_tablefeatures import (
    OFP13_TABLE_FEATURES,
    TableFeatures,
    TableFeaturesReply,
)
from pyovs.openflow.ofprint import ofp_to_string

__all__ = ["TableModCommands", "parse_table_mod"]

OFPTT_ALL: Final = 0xFF
OFP_MAX_TABLE_NAME_LEN: Final = 32
OFPSF_REQ_MORE: Final = 1
TFC15_MODIFY: Final = 1
OFPTT_MAX: Final = 0xFE
_OF11_12: Final = (1 << 2) | (1 << 3)
_OF14_15: Final = (1 << 5) | (1 << 6)
_OF13_UP: Final = (1 << 4) | _OF14_15
_SETTINGS: Final = {
    "controller": ({"miss": MISS_CONTROLLER}, _OF11_12),
    "continue": ({"miss": MISS_CONTINUE}, _OF11_12),
    "drop": ({"miss": MISS_DROP}, _OF11_12),
    "evict": ({"eviction": SETTING_ON}, _OF14_15),
    "noevict": ({"eviction": SETTING_OFF}, _OF14_15),
    "novacancy": ({"vacancy": SETTING_OFF}, _OF14_15),
}
"""Setting word -> (TableMod fields, versions that carry it as a bitmap)."""


def _vacancy(setting: str) -> tuple[int, int]:
    """``parse_ofp_table_vacancy``: ``vacancy:DOWN,UP`` read with strtok as OVS."""
    rest = setting.split(":", 1)[1] if ":" in setting else ""
    parts = [p for p in rest.split(",") if p]
    if not parts:
        raise ParseError("Vacancy down value missing")
    down = str_to_int(parts[0], 0)
    if down is None or not 0 <= down <= 100:
        raise ParseError(f'Invalid vacancy down value "{parts[0]}"')
    if len(parts) < 2:
        raise ParseError("Vacancy up value missing")
    up = str_to_int(parts[1], 0)
    if up is None or not 0 <= up <= 100:
        raise ParseError(f'Invalid vacancy up value "{parts[1]}"')
    if down > up:
        raise ParseError("Invalid vacancy range, vacancy up should be greater than vacancy "
                         "down (OFPBPC_BAD_VALUE)")
    return down, up


def parse_table_mod(table: str, setting: str, table_map: dict[str, int] | None = None
                    ) -> tuple[TableMod, str | None, int]:
    """``parse_ofp_table_mod``: (table mod, new name or None, usable version bitmap)."""
    if table.lower() == "all":
        table_id = OFPTT_ALL
    else:
        parsed = parse_table(table, table_map)
        if parsed is None:
            raise ParseError(f'unknown table "{table}"')
        table_id = parsed
    name: str | None = None
    if setting in _SETTINGS:
        fields, usable = _SETTINGS[setting]
        tm = TableMod(table_id, **fields)
    elif "vacancy".startswith(setting.split(":", 1)[0]):
        down, up = _vacancy(setting)
        tm, usable = TableMod(table_id, vacancy=SETTING_ON, vacancy_down=down,
                              vacancy_up=up), _OF14_15
    elif table_id != OFPTT_ALL and setting.startswith("name:"):
        tm, name, usable = TableMod(table_id), setting[5:], _OF13_UP
    else:
        raise ParseError(f"invalid table_mod setting {setting}")
    if table_id == OFPTT_MAX and tm.miss == MISS_CONTINUE:
        raise ParseError("last table's flow miss handling can not be continue")
    return tm, name, usable


def _features_entry(t: TableFeatures, name: bytes | None, version: int, command: int,
                    properties: bytes) -> bytes:
    """``ofputil_append_table_features``: a table's entry rebuilt, properties as given."""
    caps = 0
    if version >= 5:
        caps = (OFPTC14_EVICTION if t.eviction else 0) | (
            OFPTC14_VACANCY_EVENTS if t.vacancy else 0)
    raw_name = name if name is not None else t.name.encode()[:OFP_MAX_TABLE_NAME_LEN - 1]
    return OFP13_TABLE_FEATURES.pack(
        OFP13_TABLE_FEATURES.size + len(properties), t.table_id,
        command if version >= 6 else 0, raw_name, t.metadata_match, t.metadata_write, caps,
        t.max_entries) + properties


class TableVconn(FlowVconn):
    """A connection that can send a multipart request in several parts."""

    def transact_parts(self, raw: str, entries: list[bytes]) -> list[Message]:
        """``vconn_transact_multipart``: the entries in as few request parts as fit."""
        parts: list[bytes] = []
        for entry in entries:
            if parts and 16 + len(parts[-1]) + len(entry) <= 0xFFFF:
                parts[-1] += entry
            else:
                parts.append(entry)
        xid = self.xids.next()
        for i, body in enumerate(parts):
            more = OFPSF_REQ_MORE if i < len(parts) - 1 else 0
            self.conn.send_message(Message(self.version, xid, raw, Unparsed(body), more))
        self._flush()
        replies: list[Message] = []
        while True:
            for event in self._events():
                if isinstance(event, (Reply, Received)) and event.message.xid == xid:
                    replies.append(event.message)
                    if not event.message.stats_flags & OFPSF_REQ_MORE:
                        return replies
                elif isinstance(event, Closed):
                    raise Fatal(f"{self.name}: connection closed ({event.reason})")


class TableModCommands(SwitchBase):
    """``mod-table``."""

    def _with_desc(self, v: FlowVconn, tm: TableMod) -> TableMod:
        """``fetch_table_desc``: keep the table's other setting as it is."""
        if v.version < 5:
            # ovs-ofctl asks even when it connected in an older version.
            raise Fatal("dump-table-desc needs OpenFlow 1.4 or later ('-O OpenFlow14')")
        eviction, flags, vacancy, down, up = SETTING_DEFAULT, 0xFFFFFFFF, SETTING_DEFAULT, 0, 0
        for m in v.transact(TableDescRequest()):
            if not isinstance(m.body, _TableDescReply):
                raise Fatal("received bad reply: " + ofp_to_string(codec.encode(m),
                                                                  self.opts.verbosity + 1))
            for td in m.body.tables:
                if td.table_id == tm.table_id:
                    eviction = SETTING_ON if td.config & OFPTC14_EVICTION else SETTING_OFF
                    vacancy = SETTING_ON if td.config & OFPTC14_VACANCY_EVENTS else SETTING_OFF
                    flags = td.eviction_flags
                    down, up = td.vacancy[:2] if td.vacancy else (0, 0)
        if tm.eviction != SETTING_DEFAULT:
            return TableMod(tm.table_id, tm.miss, tm.eviction, tm.eviction_flags, vacancy,
                            down, up)
        if tm.vacancy != SETTING_DEFAULT:
            return TableMod(tm.table_id, tm.miss, eviction, flags, tm.vacancy,
                            tm.vacancy_down, tm.vacancy_up)
        return tm

    def mod_table(self, args: list[str]) -> None:
        name, table, setting = args
        tables = None
        if self.opts.names is not False:
            tables = self.names.tables(name).by_name
        try:
            tm, new_name, usable = parse_table_mod(table, setting, tables)
        except ParseError as e:
            raise Fatal(str(e)) from None
        allowed = self.opts.versions
        if not allowed & usable:
            raise Fatal(f"table_mod '{setting}' requires one of the OpenFlow versions "
                        f"{version_names(usable)}")
        self.opts.versions &= usable
        v = TableVconn(name, self.opts.versions, self.xids)
        try:
            if new_name is not None:
                self._rename(v, tm.table_id, new_name)
            elif not allowed & _OF14_15:
                self._noreply(v, tm)
            elif tm.table_id == OFPTT_ALL:
                for table_id in range(OFPTT_MAX):
                    one = TableMod(table_id, tm.miss, tm.eviction, tm.eviction_flags,
                                   tm.vacancy, tm.vacancy_down, tm.vacancy_up)
                    self._noreply(v, self._with_desc(v, one))
            else:
                self._noreply(v, self._with_desc(v, tm))
        finally:
            v.close()

    def _rename(self, v: TableVconn, table_id: int, new_name: str) -> None:
        """``change_table_name``: send the table features back with one name changed.

        OpenFlow 1.5 can modify one table (``OFPTFC15_MODIFY`` without
        properties); 1.3 and 1.4 need every table with all its properties,
        split over as many request parts as 64 kB messages take.
        """
        tables: dict[int, TableFeatures] = {}
        for m in v.transact(TableFeaturesRequest(b"")):
            if not isinstance(m.body, TableFeaturesReply):
                raise Fatal("received bad reply: " + ofp_to_string(codec.encode(m),
                                                                  self.opts.verbosity + 1))
            tables.update((t.table_id, t) for t in m.body.tables)
        if table_id not in tables:
            raise Fatal(f"switch does not have table {table_id}")
        name = new_name.encode()[:OFP_MAX_TABLE_NAME_LEN - 1]
        if v.version >= 6:
            entries = [_features_entry(tables[table_id], name, v.version, TFC15_MODIFY,
                                       b"")]
        else:
            entries = [_features_entry(t, name if t.table_id == table_id else None, v.version,
                                       0, t.raw[OFP13_TABLE_FEATURES.size:])
                       for _, t in sorted(tables.items())]
        for reply in v.transact_parts("OFPST13_TABLE_FEATURES_REQUEST", entries):
            if isinstance(reply.body, ErrorMsg):
                sys.stdout.flush()
                self._print_to("stderr", reply, self.opts.verbosity + 1)
                raise Fatal("")

    def table_mod_commands(self) -> list[Command]:
        return [Command("mod-table", None, 3, 3, self.mod_table)]
