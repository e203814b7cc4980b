"""The meter table: meter_mod, meter statistics and configuration, and metering.

OVS splits meters between ``ofproto/ofproto.c`` (the table and its checks:
``handle_meter_mod``, ``handle_add_meter``, ``handle_modify_meter``,
``handle_delete_meter``, ``handle_meter_request``) and the datapath, which
does the metering (``lib/dpif-netdev.c``: ``dpif_netdev_meter_set`` refuses
what it cannot do, ``dp_netdev_run_meter`` is the token bucket).  pyovs's
userspace datapath is the netdev one, so this module is both halves:
``MeterTable`` with OVS's errors, and ``Meter.admit`` with dpif-netdev's
arithmetic -- one bucket per band, filled at ``rate`` per millisecond (in
bits for kbps, in thousandths of a packet for pktps) up to ``burst_size *
1000``, starting full; a packet that exceeds a band is dropped and counted
against the exceeded band with the highest rate.

Errors, in OVS's order: for add and modify, ``OFPMMFC_INVALID_METER`` for
id 0 or above ``OFPM13_MAX`` (except the slowpath and controller meters),
``OFPMMFC_OUT_OF_BANDS`` above 8 bands; add ``OFPMMFC_METER_EXISTS``,
modify ``OFPMMFC_UNKNOWN_METER``; then the datapath's
``OFPMMFC_BAD_FLAGS`` (flags other than kbps, pktps, burst, stats),
``OFPMMFC_BAD_BAND`` (only drop bands), ``OFPMMFC_BAD_RATE`` (zero rate).
Delete never fails; deleting a missing meter does nothing and meter 0 is
ignored.  A stats or config request for a missing meter is
``OFPMMFC_UNKNOWN_METER``.  As in dpif-netdev, modifying a meter replaces
its datapath meter, so its buckets refill and its counters restart; its
creation time is kept.

Sans-IO: time is ``now`` in seconds, a float, passed to every call.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.msg_stats import (
    MBT_DROP,
    MC_ADD,
    MC_DELETE,
    MC_MODIFY,
    METER_MAX,
    MF_BURST,
    MF_KBPS,
    MF_PKTPS,
    MF_STATS,
    MeterConfig,
    MeterFeaturesReply,
    MeterMod,
    MeterStats,
)

OFPM13_SLOWPATH: Final = 0xFFFFFFFD
OFPM13_CONTROLLER: Final = 0xFFFFFFFE
OFPM13_ALL: Final = 0xFFFFFFFF
MAX_METERS: Final = 1 << 18
MAX_BANDS: Final = 8
SUPPORTED_FLAGS: Final = MF_STATS | MF_PKTPS | MF_KBPS | MF_BURST
SUPPORTED_BAND_TYPES: Final = 1 << MBT_DROP


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


@dataclass(slots=True)
class _BandState:
    rate: int
    burst_size: int
    bucket: int
    packet_count: int = 0
    byte_count: int = 0


@dataclass(eq=False, slots=True)
class Meter:
    """One meter: its configuration, and dpif-netdev's metering state."""

    config: MeterConfig
    created: float = 0.0
    used: float = 0.0
    packet_count: int = 0
    byte_count: int = 0
    bands: list[_BandState] = field(default_factory=list)
    max_delta_t: int = 0

    def __post_init__(self) -> None:
        self.reset(self.config, self.used)

    @property
    def meter_id(self) -> int:
        return self.config.meter_id

    def reset(self, config: MeterConfig, now: float) -> None:
        """``dpif_netdev_meter_set``: full buckets, counters at zero."""
        self.config = config
        self.used = now
        self.packet_count = self.byte_count = 0
        self.bands = []
        self.max_delta_t = 0
        for b in config.bands:
            burst = b.burst_size or b.rate
            state = _BandState(b.rate, burst, burst * 1000)
            self.bands.append(state)
            self.max_delta_t = max(self.max_delta_t, state.bucket // b.rate)

    def admit(self, now: float, bytes_: int) -> bool:
        """Meter one packet of ``bytes_`` bytes: True to pass it, False to drop it."""
        delta = max(0, _ms(now) - _ms(self.used))
        delta = min(delta, self.max_delta_t)
        self.used = now
        self.packet_count += 1
        self.byte_count += bytes_
        volume = 1000 if self.config.flags & MF_PKTPS else bytes_ * 8
        exceeded: _BandState | None = None
        for band in self.bands:
            band.bucket = min(band.bucket + delta * band.rate, band.burst_size * 1000)
            if band.bucket >= volume:
                band.bucket -= volume
            else:
                if self.config.flags & MF_PKTPS:
                    band.bucket %= 1000
                if exceeded is None or band.rate > exceeded.rate:
                    exceeded = band
        if exceeded is None:
            return True
        exceeded.packet_count += 1
        exceeded.byte_count += bytes_
        return False

    def stats(self, now: float, flow_count: int = 0) -> MeterStats:
        ms = max(0, _ms(now) - _ms(self.created))
        return MeterStats(self.meter_id, flow_count, self.packet_count, self.byte_count,
                          ms // 1000, (ms % 1000) * 1_000_000,
                          tuple((b.packet_count, b.byte_count) for b in self.bands))


@dataclass(slots=True)
class MeterModResult:
    added: Meter | None = None
    modified: Meter | None = None
    deleted: list[int] = field(default_factory=list)
    """Ids of deleted meters; the rules that use them must go too."""


class MeterTable:
    """A switch's meters (OVS ``ofproto->meters``)."""

    def __init__(self, max_meters: int = MAX_METERS, max_bands: int = MAX_BANDS) -> None:
        self._meters: dict[int, Meter] = {}
        self.max_meters = max_meters
        self.max_bands = max_bands

    def get(self, meter_id: int) -> Meter | None:
        return self._meters.get(meter_id)

    def snapshot(self) -> dict[int, tuple[Meter, Meter]]:
        """The table's state, for ``restore``: each meter and a copy of it as it is now
        (meter_mod modifies meters in place)."""
        return {mid: (m, copy.deepcopy(m)) for mid, m in self._meters.items()}

    def restore(self, snapshot: dict[int, tuple[Meter, Meter]]) -> None:
        """Put the meters of ``snapshot`` back as they were, keeping their identity."""
        for meter, saved in snapshot.values():
            meter.config, meter.created, meter.used = saved.config, saved.created, saved.used
            meter.packet_count, meter.byte_count = saved.packet_count, saved.byte_count
            meter.bands, meter.max_delta_t = saved.bands, saved.max_delta_t
        self._meters = {mid: meter for mid, (meter, _) in snapshot.items()}

    def exists(self, meter_id: int) -> bool:
        """Whether a meter action may name ``meter_id`` (``ofproto_fix_meter_action``)."""
        return meter_id != 0 and meter_id in self._meters

    def __len__(self) -> int:
        return len(self._meters)

    def meters(self) -> list[Meter]:
        return [self._meters[k] for k in sorted(self._meters)]

    def meter_mod(self, mm: MeterMod, now: float) -> MeterModResult:
        """Apply a meter_mod (OVS ``handle_meter_mod``); raises ``OFError``."""
        config = mm.meter
        meter_id = config.meter_id
        if mm.command != MC_DELETE:
            if not self.max_meters or meter_id == 0 or (
                    meter_id > METER_MAX
                    and meter_id not in (OFPM13_SLOWPATH, OFPM13_CONTROLLER)):
                raise OFError(OFPErr.OFPMMFC_INVALID_METER, f"meter {meter_id:#x}")
            if len(config.bands) > self.max_bands:
                raise OFError(OFPErr.OFPMMFC_OUT_OF_BANDS, f"{len(config.bands)} bands")
        if mm.command == MC_ADD:
            if meter_id in self._meters:
                raise OFError(OFPErr.OFPMMFC_METER_EXISTS, f"meter {meter_id}")
            if len(self._meters) >= self.max_meters:
                raise OFError(OFPErr.OFPMMFC_OUT_OF_METERS, "too many meters")
            self._check_config(config)
            meter = Meter(config, now, now)
            self._meters[meter_id] = meter
            return MeterModResult(added=meter)
        if mm.command == MC_MODIFY:
            old = self._meters.get(meter_id)
            if old is None:
                raise OFError(OFPErr.OFPMMFC_UNKNOWN_METER, f"meter {meter_id}")
            self._check_config(config)
            old.reset(config, now)
            return MeterModResult(modified=old)
        if mm.command == MC_DELETE:
            if meter_id == OFPM13_ALL:
                ids = sorted(self._meters)
            elif meter_id and meter_id in self._meters:
                ids = [meter_id]
            else:
                ids = []
            for mid in ids:
                del self._meters[mid]
            return MeterModResult(deleted=ids)
        raise OFError(OFPErr.OFPMMFC_BAD_COMMAND, f"meter command {mm.command}")

    @staticmethod
    def _check_config(config: MeterConfig) -> None:
        """What ``dpif_netdev_meter_set`` refuses, as ofproto-dpif reports it."""
        if config.flags & ~SUPPORTED_FLAGS:
            raise OFError(OFPErr.OFPMMFC_BAD_FLAGS, f"meter flags {config.flags:#x}")
        for band in config.bands:
            if band.type != MBT_DROP:
                raise OFError(OFPErr.OFPMMFC_BAD_BAND, f"band type {band.type}")
            if not band.rate:
                raise OFError(OFPErr.OFPMMFC_BAD_RATE, "zero rate")

    def _select(self, meter_id: int) -> list[Meter]:
        if meter_id == OFPM13_ALL:
            return self.meters()
        meter = self._meters.get(meter_id)
        if meter is None:
            raise OFError(OFPErr.OFPMMFC_UNKNOWN_METER, f"meter {meter_id}")
        return [meter]

    def stats(self, meter_id: int, now: float,
              flow_count: Callable[[int], int] | None = None) -> list[MeterStats]:
        """Meter stats entries (OVS ``handle_meter_request``)."""
        return [m.stats(now, flow_count(m.meter_id) if flow_count else 0)
                for m in self._select(meter_id)]

    def configs(self, meter_id: int) -> list[MeterConfig]:
        """Meter config entries (OVS ``handle_meter_request``)."""
        return [m.config for m in self._select(meter_id)]

    def features(self) -> MeterFeaturesReply:
        """dpif-netdev's meter features."""
        return MeterFeaturesReply(max_meters=self.max_meters,
                                  band_types=SUPPORTED_BAND_TYPES,
                                  capabilities=SUPPORTED_FLAGS, max_bands=self.max_bands,
                                  max_color=0)

