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
* renaming tables (``name:NAME``) needs the whole table-features set sent
  back and is not provided: it fails with a message saying so.
"""

from __future__ import annotations

from typing import Final

from pyovs.cli.cmdline import Command, Fatal
from pyovs.cli.ofctl_flow import version_names
from pyovs.cli.ofctl_flowio import FlowVconn
from pyovs.cli.ofctl_swbase import SwitchBase
from pyovs.openflow import codec
from pyovs.openflow.act_wire import parse_table
from pyovs.openflow.ctext import str_to_int
from pyovs.openflow.errors import ParseError
from pyovs.openflow.msg_basic import TableDescRequest
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
from pyovs.openflow.ofprint import ofp_to_string

__all__ = ["TableModCommands", "parse_table_mod"]

OFPTT_ALL: Final = 0xFF
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
        v = self._vconn(name)
        try:
            if new_name is not None:
                raise Fatal("mod-table name: changing table names is not supported by "
                            "pyovs-ofctl")
            if not allowed & _OF14_15:
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

    def table_mod_commands(self) -> list[Command]:
        return [Command("mod-table", None, 3, 3, self.mod_table)]
