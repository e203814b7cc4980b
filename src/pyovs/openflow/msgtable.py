"""OpenFlow message types as data: every wire variant OVS knows (``ofp-msgs.h``).

A message's identity on the wire depends on its version: ``OFPT_FLOW_MOD`` is
type 14 in every version but its body differs between 1.0 and 1.1+; barrier
is type 18 in 1.0 and 20 later; statistics are ``OFPT_STATS_REQUEST``
(16/18) plus a 16-bit stat type; Nicira and ONF extensions are
``OFPT_VENDOR`` (4) plus a vendor id and a 32-bit subtype, and vendor
statistics add both to a stats header.  OVS names each such variant a *raw*
type (``OFPRAW_OFPT10_FLOW_MOD``, ``OFPRAW_NXT_FLOW_MOD``...) and groups raws
with the same meaning into a logical type (``OFPTYPE_FLOW_MOD``).

``RAWS`` is that table, one row per raw::

    R(name, family, min_version, max_version, number, min_body, extra)

``number`` is the OFPT type, the stat type (OFPST) or the vendor subtype
(NXT/NXST/ONFT/ONFST); ``min_body`` is the fixed body length after all
headers and ``extra`` the unit the rest must be a multiple of (0: no rest
allowed, 1: any rest).  A family ending in ``ST`` is a statistics message;
the raw's name says whether it is the request or the reply.  Versions are
wire numbers (1 = OpenFlow 1.0 ... 6 = 1.5); 255 means "any version", used
for the four messages every version shares (hello, error, echo).

``TYPES`` groups raws into logical types, as OVS's ``enum ofptype``.
``header.py`` decodes and encodes the headers using these tables.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class Family(enum.Enum):
    """How a message is identified on the wire."""

    OFPT = "OFPT"
    """Standard message: the header's type."""
    OFPST = "OFPST"
    """Standard statistics: stats request/reply + stat type."""
    NXT = "NXT"
    """Nicira extension: OFPT_VENDOR + NX_VENDOR_ID + subtype."""
    NXST = "NXST"
    """Nicira statistics: stats + OFPST_VENDOR + NX_VENDOR_ID + subtype."""
    ONFT = "ONFT"
    """ONF extension: OFPT_VENDOR + ONF_VENDOR_ID + subtype."""
    ONFST = "ONFST"
    """ONF statistics."""


@dataclass(frozen=True, slots=True)
class Raw:
    """One wire variant of a message (OVS ``enum ofpraw`` plus ``raw_info``)."""

    name: str
    """OVS's raw name without ``OFPRAW_``, e.g. ``OFPT10_FLOW_MOD``."""
    family: Family
    min_version: int
    max_version: int
    number: int
    """OFPT type, OFPST stat type, or vendor subtype."""
    min_body: int
    """Fixed body length after the headers."""
    extra: int
    """0: body is exactly ``min_body``; 1: any length above; n: multiples of n above."""
    ofptype: str = ""
    """Logical type (OVS ``enum ofptype`` without ``OFPTYPE_``)."""

    @property
    def is_stats(self) -> bool:
        return self.family.value.endswith("ST")

    @property
    def is_request(self) -> bool:
        return self.name.endswith("_REQUEST")

    @property
    def is_reply(self) -> bool:
        return self.is_stats and self.name.endswith("_REPLY")

    @property
    def human_name(self) -> str:
        """The name ofp-print uses: ``OFPT_FLOW_MOD``, ``NXST_FLOW request``."""
        rest = self.name[len(self.family.value):].lstrip("0123456789")[1:]
        name = f"{self.family.value}_{rest}"
        if self.is_stats:
            if name.endswith("_REQUEST"):
                return name[:-8] + " request"
            return name[:-6] + " reply"
        return name


def R(name: str, family: str, lo: int, hi: int, number: int, min_body: int,
      extra: int) -> Raw:
    return Raw(name, Family(family), lo, hi, number, min_body, extra)


OFPT, OFPST, NXT, NXST, ONFT, ONFST = "OFPT", "OFPST", "NXT", "NXST", "ONFT", "ONFST"

_RAW_ROWS: Final[tuple[Raw, ...]] = (
    R("OFPT_HELLO",                      OFPT,  1, 255,    0,    0,  1),
    R("OFPT_ERROR",                      OFPT,  1, 255,    1,    4,  1),
    R("OFPT_ECHO_REQUEST",               OFPT,  1, 255,    2,    0,  1),
    R("OFPT_ECHO_REPLY",                 OFPT,  1, 255,    3,    0,  1),
    R("OFPT_FEATURES_REQUEST",           OFPT,  1,   6,    5,    0,  0),
    R("OFPT10_FEATURES_REPLY",           OFPT,  1,   1,    6,   24, 48),
    R("OFPT11_FEATURES_REPLY",           OFPT,  2,   3,    6,   24, 64),
    R("OFPT13_FEATURES_REPLY",           OFPT,  4,   6,    6,   24,  0),
    R("OFPT_GET_CONFIG_REQUEST",         OFPT,  1,   6,    7,    0,  0),
    R("OFPT_GET_CONFIG_REPLY",           OFPT,  1,   6,    8,    4,  0),
    R("OFPT_SET_CONFIG",                 OFPT,  1,   6,    9,    4,  0),
    R("OFPT10_PACKET_IN",                OFPT,  1,   1,   10,   10,  1),
    R("OFPT11_PACKET_IN",                OFPT,  2,   2,   10,   16,  1),
    R("OFPT12_PACKET_IN",                OFPT,  3,   3,   10,    8,  1),
    R("OFPT13_PACKET_IN",                OFPT,  4,   6,   10,   16,  1),
    R("NXT_PACKET_IN",                   NXT,   1,   6,   17,   24,  1),
    R("NXT_PACKET_IN2",                  NXT,   1,   6,   30,    0,  8),
    R("OFPT10_FLOW_REMOVED",             OFPT,  1,   1,   11,   80,  0),
    R("OFPT11_FLOW_REMOVED",             OFPT,  2,   5,   11,   40,  8),
    R("OFPT15_FLOW_REMOVED",             OFPT,  6,   6,   11,   16,  8),
    R("NXT_FLOW_REMOVED",                NXT,   1,   6,   14,   40,  8),
    R("OFPT10_PORT_STATUS",              OFPT,  1,   1,   12,   56,  0),
    R("OFPT11_PORT_STATUS",              OFPT,  2,   4,   12,   72,  0),
    R("OFPT14_PORT_STATUS",              OFPT,  5,   6,   12,   48,  8),
    R("OFPT10_PACKET_OUT",               OFPT,  1,   1,   13,    8,  1),
    R("OFPT11_PACKET_OUT",               OFPT,  2,   5,   13,   16,  1),
    R("OFPT15_PACKET_OUT",               OFPT,  6,   6,   13,    8,  1),
    R("OFPT10_FLOW_MOD",                 OFPT,  1,   1,   14,   64,  8),
    R("OFPT11_FLOW_MOD",                 OFPT,  2,   6,   14,   40,  8),
    R("NXT_FLOW_MOD",                    NXT,   1,   6,   13,   32,  8),
    R("NXT_GROUP_MOD",                   NXT,   1,   1,   31,   16,  8),
    R("OFPT11_GROUP_MOD",                OFPT,  2,   5,   15,    8,  8),
    R("OFPT15_GROUP_MOD",                OFPT,  6,   6,   15,   16,  8),
    R("OFPT10_PORT_MOD",                 OFPT,  1,   1,   15,   24,  0),
    R("OFPT11_PORT_MOD",                 OFPT,  2,   4,   16,   32,  0),
    R("OFPT14_PORT_MOD",                 OFPT,  5,   6,   16,   24,  8),
    R("OFPT11_TABLE_MOD",                OFPT,  2,   4,   17,    8,  0),
    R("OFPT14_TABLE_MOD",                OFPT,  5,   6,   17,    8,  8),
    R("OFPT10_BARRIER_REQUEST",          OFPT,  1,   1,   18,    0,  0),
    R("OFPT11_BARRIER_REQUEST",          OFPT,  2,   6,   20,    0,  0),
    R("OFPT10_BARRIER_REPLY",            OFPT,  1,   1,   19,    0,  0),
    R("OFPT11_BARRIER_REPLY",            OFPT,  2,   6,   21,    0,  0),
    R("OFPT10_QUEUE_GET_CONFIG_REQUEST", OFPT,  1,   1,   20,    4,  0),
    R("OFPT11_QUEUE_GET_CONFIG_REQUEST", OFPT,  2,   4,   22,    8,  0),
    R("OFPT10_QUEUE_GET_CONFIG_REPLY",   OFPT,  1,   1,   21,    8,  8),
    R("OFPT11_QUEUE_GET_CONFIG_REPLY",   OFPT,  2,   4,   23,    8,  8),
    R("OFPT12_ROLE_REQUEST",             OFPT,  3,   6,   24,   16,  0),
    R("NXT_ROLE_REQUEST",                NXT,   1,   6,   10,    4,  0),
    R("OFPT12_ROLE_REPLY",               OFPT,  3,   6,   25,   16,  0),
    R("NXT_ROLE_REPLY",                  NXT,   1,   6,   11,    4,  0),
    R("OFPT13_GET_ASYNC_REQUEST",        OFPT,  4,   4,   26,    0,  0),
    R("OFPT14_GET_ASYNC_REQUEST",        OFPT,  5,   6,   26,    0,  0),
    R("OFPT13_GET_ASYNC_REPLY",          OFPT,  4,   4,   27,   24,  0),
    R("OFPT14_GET_ASYNC_REPLY",          OFPT,  5,   6,   27,    0,  8),
    R("OFPT13_SET_ASYNC",                OFPT,  4,   4,   28,   24,  0),
    R("NXT_SET_ASYNC_CONFIG",            NXT,   1,   6,   19,   24,  0),
    R("NXT_SET_ASYNC_CONFIG2",           NXT,   1,   4,   27,    0,  8),
    R("OFPT14_SET_ASYNC",                OFPT,  5,   6,   28,    0,  8),
    R("OFPT13_METER_MOD",                OFPT,  4,   6,   29,    8,  8),
    R("ONFT13_ROLE_STATUS",              ONFT,  4,   4, 1911,   16,  8),
    R("OFPT14_ROLE_STATUS",              OFPT,  5,   6,   30,   16,  8),
    R("OFPT14_TABLE_STATUS",             OFPT,  5,   6,   31,    8,  8),
    R("NXT_REQUESTFORWARD",              NXT,   1,   3,  132,    8,  8),
    R("ONFT13_REQUESTFORWARD",           ONFT,  4,   4, 2350,    8,  8),
    R("OFPT14_REQUESTFORWARD",           OFPT,  5,   6,   32,    8,  8),
    R("OFPT14_BUNDLE_CONTROL",           OFPT,  5,   6,   33,    8,  8),
    R("ONFT13_BUNDLE_CONTROL",           ONFT,  4,   4, 2300,    8,  8),
    R("OFPT14_BUNDLE_ADD_MESSAGE",       OFPT,  5,   6,   34,    8,  1),
    R("ONFT13_BUNDLE_ADD_MESSAGE",       ONFT,  4,   4, 2301,    8,  1),
    R("OFPST_DESC_REQUEST",              OFPST, 1,   6,    0,    0,  0),
    R("OFPST_DESC_REPLY",                OFPST, 1,   6,    0, 1056,  0),
    R("OFPST10_FLOW_REQUEST",            OFPST, 1,   1,    1,   44,  0),
    R("OFPST11_FLOW_REQUEST",            OFPST, 2,   6,    1,   32,  8),
    R("NXST_FLOW_REQUEST",               NXST,  1,   1,    0,    8,  8),
    R("OFPST10_FLOW_REPLY",              OFPST, 1,   1,    1,    0,  1),
    R("OFPST11_FLOW_REPLY",              OFPST, 2,   3,    1,    0,  1),
    R("OFPST13_FLOW_REPLY",              OFPST, 4,   5,    1,    0,  1),
    R("OFPST15_FLOW_REPLY",              OFPST, 6,   6,    1,    0,  1),
    R("NXST_FLOW_REPLY",                 NXST,  1,   1,    0,    0,  1),
    R("OFPST10_AGGREGATE_REQUEST",       OFPST, 1,   1,    2,   44,  0),
    R("OFPST11_AGGREGATE_REQUEST",       OFPST, 2,   5,    2,   32,  8),
    R("OFPST15_AGGREGATE_REQUEST",       OFPST, 6,   6,    2,   32,  8),
    R("NXST_AGGREGATE_REQUEST",          NXST,  1,   1,    1,    8,  8),
    R("OFPST_AGGREGATE_REPLY",           OFPST, 1,   5,    2,   24,  0),
    R("OFPST15_AGGREGATE_REPLY",         OFPST, 6,   6,    2,    0,  1),
    R("NXST_AGGREGATE_REPLY",            NXST,  1,   1,    1,   24,  0),
    R("OFPST_TABLE_REQUEST",             OFPST, 1,   6,    3,    0,  0),
    R("OFPST10_TABLE_REPLY",             OFPST, 1,   1,    3,    0, 64),
    R("OFPST11_TABLE_REPLY",             OFPST, 2,   2,    3,    0, 88),
    R("OFPST12_TABLE_REPLY",             OFPST, 3,   3,    3,    0, 128),
    R("OFPST13_TABLE_REPLY",             OFPST, 4,   6,    3,    0, 24),
    R("OFPST10_PORT_REQUEST",            OFPST, 1,   1,    4,    8,  0),
    R("OFPST11_PORT_REQUEST",            OFPST, 2,   6,    4,    8,  0),
    R("OFPST10_PORT_REPLY",              OFPST, 1,   1,    4,    0, 104),
    R("OFPST11_PORT_REPLY",              OFPST, 2,   3,    4,    0, 104),
    R("OFPST13_PORT_REPLY",              OFPST, 4,   4,    4,    0, 112),
    R("OFPST14_PORT_REPLY",              OFPST, 5,   6,    4,    0,  8),
    R("OFPST10_QUEUE_REQUEST",           OFPST, 1,   1,    5,    8,  0),
    R("OFPST11_QUEUE_REQUEST",           OFPST, 2,   6,    5,    8,  0),
    R("OFPST10_QUEUE_REPLY",             OFPST, 1,   1,    5,    0, 32),
    R("OFPST11_QUEUE_REPLY",             OFPST, 2,   3,    5,    0, 32),
    R("OFPST13_QUEUE_REPLY",             OFPST, 4,   4,    5,    0, 40),
    R("OFPST14_QUEUE_REPLY",             OFPST, 5,   6,    5,    0,  8),
    R("NXST_GROUP_REQUEST",              NXST,  1,   1,    7,    8,  0),
    R("OFPST11_GROUP_REQUEST",           OFPST, 2,   6,    6,    8,  0),
    R("NXST_GROUP_REPLY",                NXST,  1,   1,    7,    0,  8),
    R("OFPST11_GROUP_REPLY",             OFPST, 2,   3,    6,    0,  8),
    R("OFPST13_GROUP_REPLY",             OFPST, 4,   6,    6,    0,  8),
    R("NXST_GROUP_DESC_REQUEST",         NXST,  1,   1,    8,    8,  0),
    R("OFPST11_GROUP_DESC_REQUEST",      OFPST, 2,   5,    7,    0,  0),
    R("OFPST15_GROUP_DESC_REQUEST",      OFPST, 6,   6,    7,    8,  0),
    R("NXST_GROUP_DESC_REPLY",           NXST,  1,   1,    8,    0,  8),
    R("OFPST11_GROUP_DESC_REPLY",        OFPST, 2,   6,    7,    0,  8),
    R("NXST_GROUP_FEATURES_REQUEST",     NXST,  1,   2,    9,    0,  0),
    R("OFPST12_GROUP_FEATURES_REQUEST",  OFPST, 3,   6,    8,    0,  0),
    R("NXST_GROUP_FEATURES_REPLY",       NXST,  1,   2,    9,   40,  0),
    R("OFPST12_GROUP_FEATURES_REPLY",    OFPST, 3,   6,    8,   40,  0),
    R("OFPST13_METER_REQUEST",           OFPST, 4,   6,    9,    8,  0),
    R("OFPST13_METER_REPLY",             OFPST, 4,   6,    9,    0,  8),
    R("OFPST13_METER_CONFIG_REQUEST",    OFPST, 4,   6,   10,    8,  0),
    R("OFPST13_METER_CONFIG_REPLY",      OFPST, 4,   6,   10,    0,  8),
    R("OFPST13_METER_FEATURES_REQUEST",  OFPST, 4,   6,   11,    0,  0),
    R("OFPST13_METER_FEATURES_REPLY",    OFPST, 4,   6,   11,   16,  0),
    R("OFPST13_TABLE_FEATURES_REQUEST",  OFPST, 4,   6,   12,    0,  8),
    R("OFPST13_TABLE_FEATURES_REPLY",    OFPST, 4,   6,   12,   64,  8),
    R("OFPST14_TABLE_DESC_REQUEST",      OFPST, 5,   6,   14,    0,  0),
    R("OFPST14_TABLE_DESC_REPLY",        OFPST, 5,   6,   14,    8,  8),
    R("OFPST10_PORT_DESC_REQUEST",       OFPST, 1,   5,   13,    0,  0),
    R("OFPST15_PORT_DESC_REQUEST",       OFPST, 6,   6,   13,    8,  0),
    R("OFPST10_PORT_DESC_REPLY",         OFPST, 1,   1,   13,    0, 48),
    R("OFPST11_PORT_DESC_REPLY",         OFPST, 2,   4,   13,    0, 64),
    R("OFPST14_PORT_DESC_REPLY",         OFPST, 5,   6,   13,    0,  8),
    R("OFPST14_QUEUE_DESC_REQUEST",      OFPST, 5,   6,   15,    8,  0),
    R("OFPST14_QUEUE_DESC_REPLY",        OFPST, 5,   6,   15,    0,  8),
    R("OFPST14_FLOW_MONITOR_REQUEST",    OFPST, 5,   6,   16,    0,  8),
    R("ONFST13_FLOW_MONITOR_REQUEST",    ONFST, 4,   4, 1870,    0,  8),
    R("NXST_FLOW_MONITOR_REQUEST",       NXST,  1,   3,    2,    0,  8),
    R("OFPST14_FLOW_MONITOR_REPLY",      OFPST, 5,   6,   16,    0,  8),
    R("ONFST13_FLOW_MONITOR_REPLY",      ONFST, 4,   4, 1870,    0,  8),
    R("NXST_FLOW_MONITOR_REPLY",         NXST,  1,   3,    2,    0,  8),
    R("ONFT13_FLOW_MONITOR_CANCEL",      ONFT,  4,   4, 1870,    4,  0),
    R("NXT_FLOW_MONITOR_CANCEL",         NXT,   1,   3,   21,    4,  0),
    R("ONFT13_FLOW_MONITOR_PAUSED",      ONFT,  4,   4, 1871,    0,  0),
    R("NXT_FLOW_MONITOR_PAUSED",         NXT,   1,   3,   22,    0,  0),
    R("ONFT13_FLOW_MONITOR_RESUMED",     ONFT,  4,   4, 1872,    0,  0),
    R("NXT_FLOW_MONITOR_RESUMED",        NXT,   1,   3,   23,    0,  0),
    R("NXT_SET_FLOW_FORMAT",             NXT,   1,   1,   12,    4,  0),
    R("NXT_FLOW_MOD_TABLE_ID",           NXT,   1,   6,   15,    8,  0),
    R("NXT_SET_PACKET_IN_FORMAT",        NXT,   1,   6,   16,    4,  0),
    R("NXT_FLOW_AGE",                    NXT,   1,   6,   18,    0,  0),
    R("NXT_SET_CONTROLLER_ID",           NXT,   1,   6,   20,    8,  0),
    R("NXT_TLV_TABLE_MOD",               NXT,   1,   6,   24,    8,  8),
    R("NXT_TLV_TABLE_REQUEST",           NXT,   1,   6,   25,    0,  0),
    R("NXT_TLV_TABLE_REPLY",             NXT,   1,   6,   26,   16,  8),
    R("NXT_RESUME",                      NXT,   1,   6,   28,    0,  8),
    R("NXT_CT_FLUSH_ZONE",               NXT,   1,   6,   29,    8,  0),
    R("NXT_CT_FLUSH",                    NXT,   1,   6,   32,    8,  8),
    R("NXST_IPFIX_BRIDGE_REQUEST",       NXST,  1,   6,    3,    0,  0),
    R("NXST_IPFIX_BRIDGE_REPLY",         NXST,  1,   6,    3,   88,  0),
    R("NXST_IPFIX_FLOW_REQUEST",         NXST,  1,   6,    4,    0,  0),
    R("NXST_IPFIX_FLOW_REPLY",           NXST,  1,   6,    4,    0, 88),
)

TYPES: Final[dict[str, tuple[str, ...]]] = {
    "HELLO": ("OFPT_HELLO",),
    "ERROR": ("OFPT_ERROR",),
    "ECHO_REQUEST": ("OFPT_ECHO_REQUEST",),
    "ECHO_REPLY": ("OFPT_ECHO_REPLY",),
    "FEATURES_REQUEST": ("OFPT_FEATURES_REQUEST",),
    "FEATURES_REPLY": ("OFPT10_FEATURES_REPLY", "OFPT11_FEATURES_REPLY", "OFPT13_FEATURES_REPLY"),
    "GET_CONFIG_REQUEST": ("OFPT_GET_CONFIG_REQUEST",),
    "GET_CONFIG_REPLY": ("OFPT_GET_CONFIG_REPLY",),
    "SET_CONFIG": ("OFPT_SET_CONFIG",),
    "PACKET_IN": (
        "OFPT10_PACKET_IN", "OFPT11_PACKET_IN", "OFPT12_PACKET_IN", "OFPT13_PACKET_IN",
        "NXT_PACKET_IN", "NXT_PACKET_IN2"),
    "FLOW_REMOVED": (
        "OFPT10_FLOW_REMOVED", "OFPT11_FLOW_REMOVED", "OFPT15_FLOW_REMOVED", "NXT_FLOW_REMOVED"),
    "PORT_STATUS": ("OFPT10_PORT_STATUS", "OFPT11_PORT_STATUS", "OFPT14_PORT_STATUS"),
    "PACKET_OUT": ("OFPT10_PACKET_OUT", "OFPT11_PACKET_OUT", "OFPT15_PACKET_OUT"),
    "FLOW_MOD": ("OFPT10_FLOW_MOD", "OFPT11_FLOW_MOD", "NXT_FLOW_MOD"),
    "GROUP_MOD": ("NXT_GROUP_MOD", "OFPT11_GROUP_MOD", "OFPT15_GROUP_MOD"),
    "PORT_MOD": ("OFPT10_PORT_MOD", "OFPT11_PORT_MOD", "OFPT14_PORT_MOD"),
    "TABLE_MOD": ("OFPT11_TABLE_MOD", "OFPT14_TABLE_MOD"),
    "BARRIER_REQUEST": ("OFPT10_BARRIER_REQUEST", "OFPT11_BARRIER_REQUEST"),
    "BARRIER_REPLY": ("OFPT10_BARRIER_REPLY", "OFPT11_BARRIER_REPLY"),
    "QUEUE_GET_CONFIG_REQUEST": (
        "OFPT10_QUEUE_GET_CONFIG_REQUEST", "OFPT11_QUEUE_GET_CONFIG_REQUEST",
        "OFPST14_QUEUE_DESC_REQUEST"),
    "QUEUE_GET_CONFIG_REPLY": (
        "OFPT10_QUEUE_GET_CONFIG_REPLY", "OFPT11_QUEUE_GET_CONFIG_REPLY",
        "OFPST14_QUEUE_DESC_REPLY"),
    "ROLE_REQUEST": ("OFPT12_ROLE_REQUEST", "NXT_ROLE_REQUEST"),
    "ROLE_REPLY": ("OFPT12_ROLE_REPLY", "NXT_ROLE_REPLY"),
    "GET_ASYNC_REQUEST": ("OFPT13_GET_ASYNC_REQUEST", "OFPT14_GET_ASYNC_REQUEST"),
    "GET_ASYNC_REPLY": ("OFPT13_GET_ASYNC_REPLY", "OFPT14_GET_ASYNC_REPLY"),
    "SET_ASYNC_CONFIG": (
        "OFPT13_SET_ASYNC", "NXT_SET_ASYNC_CONFIG", "NXT_SET_ASYNC_CONFIG2", "OFPT14_SET_ASYNC"),
    "METER_MOD": ("OFPT13_METER_MOD",),
    "ROLE_STATUS": ("ONFT13_ROLE_STATUS", "OFPT14_ROLE_STATUS"),
    "REQUESTFORWARD": ("NXT_REQUESTFORWARD", "ONFT13_REQUESTFORWARD", "OFPT14_REQUESTFORWARD"),
    "TABLE_STATUS": ("OFPT14_TABLE_STATUS",),
    "BUNDLE_CONTROL": ("OFPT14_BUNDLE_CONTROL", "ONFT13_BUNDLE_CONTROL"),
    "BUNDLE_ADD_MESSAGE": ("OFPT14_BUNDLE_ADD_MESSAGE", "ONFT13_BUNDLE_ADD_MESSAGE"),
    "DESC_STATS_REQUEST": ("OFPST_DESC_REQUEST",),
    "DESC_STATS_REPLY": ("OFPST_DESC_REPLY",),
    "FLOW_STATS_REQUEST": ("OFPST10_FLOW_REQUEST", "OFPST11_FLOW_REQUEST", "NXST_FLOW_REQUEST"),
    "FLOW_STATS_REPLY": (
        "OFPST10_FLOW_REPLY", "OFPST11_FLOW_REPLY", "OFPST13_FLOW_REPLY", "OFPST15_FLOW_REPLY",
        "NXST_FLOW_REPLY"),
    "AGGREGATE_STATS_REQUEST": (
        "OFPST10_AGGREGATE_REQUEST", "OFPST11_AGGREGATE_REQUEST", "OFPST15_AGGREGATE_REQUEST",
        "NXST_AGGREGATE_REQUEST"),
    "AGGREGATE_STATS_REPLY": (
        "OFPST_AGGREGATE_REPLY", "OFPST15_AGGREGATE_REPLY", "NXST_AGGREGATE_REPLY"),
    "TABLE_STATS_REQUEST": ("OFPST_TABLE_REQUEST",),
    "TABLE_STATS_REPLY": (
        "OFPST10_TABLE_REPLY", "OFPST11_TABLE_REPLY", "OFPST12_TABLE_REPLY",
        "OFPST13_TABLE_REPLY"),
    "PORT_STATS_REQUEST": ("OFPST10_PORT_REQUEST", "OFPST11_PORT_REQUEST"),
    "PORT_STATS_REPLY": (
        "OFPST10_PORT_REPLY", "OFPST11_PORT_REPLY", "OFPST13_PORT_REPLY", "OFPST14_PORT_REPLY"),
    "QUEUE_STATS_REQUEST": ("OFPST10_QUEUE_REQUEST", "OFPST11_QUEUE_REQUEST"),
    "QUEUE_STATS_REPLY": (
        "OFPST10_QUEUE_REPLY", "OFPST11_QUEUE_REPLY", "OFPST13_QUEUE_REPLY",
        "OFPST14_QUEUE_REPLY"),
    "GROUP_STATS_REQUEST": ("NXST_GROUP_REQUEST", "OFPST11_GROUP_REQUEST"),
    "GROUP_STATS_REPLY": ("NXST_GROUP_REPLY", "OFPST11_GROUP_REPLY", "OFPST13_GROUP_REPLY"),
    "GROUP_DESC_STATS_REQUEST": (
        "NXST_GROUP_DESC_REQUEST", "OFPST11_GROUP_DESC_REQUEST", "OFPST15_GROUP_DESC_REQUEST"),
    "GROUP_DESC_STATS_REPLY": ("NXST_GROUP_DESC_REPLY", "OFPST11_GROUP_DESC_REPLY"),
    "GROUP_FEATURES_STATS_REQUEST": (
        "NXST_GROUP_FEATURES_REQUEST", "OFPST12_GROUP_FEATURES_REQUEST"),
    "GROUP_FEATURES_STATS_REPLY": ("NXST_GROUP_FEATURES_REPLY", "OFPST12_GROUP_FEATURES_REPLY"),
    "METER_STATS_REQUEST": ("OFPST13_METER_REQUEST",),
    "METER_STATS_REPLY": ("OFPST13_METER_REPLY",),
    "METER_CONFIG_STATS_REQUEST": ("OFPST13_METER_CONFIG_REQUEST",),
    "METER_CONFIG_STATS_REPLY": ("OFPST13_METER_CONFIG_REPLY",),
    "METER_FEATURES_STATS_REQUEST": ("OFPST13_METER_FEATURES_REQUEST",),
    "METER_FEATURES_STATS_REPLY": ("OFPST13_METER_FEATURES_REPLY",),
    "TABLE_FEATURES_STATS_REQUEST": ("OFPST13_TABLE_FEATURES_REQUEST",),
    "TABLE_FEATURES_STATS_REPLY": ("OFPST13_TABLE_FEATURES_REPLY",),
    "TABLE_DESC_REQUEST": ("OFPST14_TABLE_DESC_REQUEST",),
    "TABLE_DESC_REPLY": ("OFPST14_TABLE_DESC_REPLY",),
    "PORT_DESC_STATS_REQUEST": ("OFPST10_PORT_DESC_REQUEST", "OFPST15_PORT_DESC_REQUEST"),
    "PORT_DESC_STATS_REPLY": (
        "OFPST10_PORT_DESC_REPLY", "OFPST11_PORT_DESC_REPLY", "OFPST14_PORT_DESC_REPLY"),
    "FLOW_MONITOR_STATS_REQUEST": (
        "OFPST14_FLOW_MONITOR_REQUEST", "ONFST13_FLOW_MONITOR_REQUEST",
        "NXST_FLOW_MONITOR_REQUEST"),
    "FLOW_MONITOR_STATS_REPLY": (
        "OFPST14_FLOW_MONITOR_REPLY", "ONFST13_FLOW_MONITOR_REPLY", "NXST_FLOW_MONITOR_REPLY"),
    "SET_FLOW_FORMAT": ("NXT_SET_FLOW_FORMAT",),
    "FLOW_MOD_TABLE_ID": ("NXT_FLOW_MOD_TABLE_ID",),
    "SET_PACKET_IN_FORMAT": ("NXT_SET_PACKET_IN_FORMAT",),
    "FLOW_AGE": ("NXT_FLOW_AGE",),
    "SET_CONTROLLER_ID": ("NXT_SET_CONTROLLER_ID",),
    "NXT_TLV_TABLE_MOD": ("NXT_TLV_TABLE_MOD",),
    "NXT_TLV_TABLE_REQUEST": ("NXT_TLV_TABLE_REQUEST",),
    "NXT_TLV_TABLE_REPLY": ("NXT_TLV_TABLE_REPLY",),
    "NXT_RESUME": ("NXT_RESUME",),
    "IPFIX_BRIDGE_STATS_REQUEST": ("NXST_IPFIX_BRIDGE_REQUEST",),
    "IPFIX_BRIDGE_STATS_REPLY": ("NXST_IPFIX_BRIDGE_REPLY",),
    "IPFIX_FLOW_STATS_REQUEST": ("NXST_IPFIX_FLOW_REQUEST",),
    "IPFIX_FLOW_STATS_REPLY": ("NXST_IPFIX_FLOW_REPLY",),
    "CT_FLUSH_ZONE": ("NXT_CT_FLUSH_ZONE",),
    "CT_FLUSH": ("NXT_CT_FLUSH",),
    "FLOW_MONITOR_CANCEL": ("ONFT13_FLOW_MONITOR_CANCEL", "NXT_FLOW_MONITOR_CANCEL"),
    "FLOW_MONITOR_PAUSED": ("ONFT13_FLOW_MONITOR_PAUSED", "NXT_FLOW_MONITOR_PAUSED"),
    "FLOW_MONITOR_RESUMED": ("ONFT13_FLOW_MONITOR_RESUMED", "NXT_FLOW_MONITOR_RESUMED"),

}

_TYPE_OF: Final = {raw: ofptype for ofptype, raws in TYPES.items() for raw in raws}
RAWS: Final[dict[str, Raw]] = {
    r.name: Raw(r.name, r.family, r.min_version, r.max_version, r.number, r.min_body,
                r.extra, _TYPE_OF[r.name])
    for r in _RAW_ROWS
}
"""Raw types by name."""
