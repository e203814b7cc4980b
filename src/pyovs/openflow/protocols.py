"""Flow protocols: which wire encodings can express a flow (OVS ``ofputil_protocol``).

ovs-ofctl decides how to send a flow by intersecting, for every field and
action used, the set of protocols that can express it: OpenFlow 1.0's fixed
match (with or without the Nicira table-id extension), NXM over OpenFlow 1.0,
OpenFlow 1.1's fixed match, or OXM in 1.2-1.5.  ``Protocol`` is that bit set
with OVS's bit values; parsers return the usable set along with what they
parsed.
"""

from __future__ import annotations

import enum
from typing import Final


class Protocol(enum.IntFlag):
    """OVS ``enum ofputil_protocol``."""

    NONE = 0
    OF10_STD = 1 << 0
    OF10_STD_TID = 1 << 1
    OF10_NXM = 1 << 2
    OF10_NXM_TID = 1 << 3
    OF11_STD = 1 << 4
    OF12_OXM = 1 << 5
    OF13_OXM = 1 << 6
    OF14_OXM = 1 << 7
    OF15_OXM = 1 << 8


P: Final = Protocol
OF10_STD_ANY: Final = P.OF10_STD | P.OF10_STD_TID
OF10_NXM_ANY: Final = P.OF10_NXM | P.OF10_NXM_TID
OF10_ANY: Final = OF10_STD_ANY | OF10_NXM_ANY
ANY_OXM: Final = P.OF12_OXM | P.OF13_OXM | P.OF14_OXM | P.OF15_OXM
NXM_OF11_UP: Final = OF10_NXM_ANY | P.OF11_STD | ANY_OXM
NXM_OXM_ANY: Final = OF10_NXM_ANY | ANY_OXM
OF11_UP: Final = P.OF11_STD | ANY_OXM
OF15_UP: Final = P.OF15_OXM
OF14_UP: Final = P.OF14_OXM | OF15_UP
OF13_UP: Final = P.OF13_OXM | OF14_UP
OF12_UP: Final = P.OF12_OXM | OF13_UP
ANY: Final = Protocol((1 << 9) - 1)
TID: Final = P.OF10_STD_TID | P.OF10_NXM_TID | P.OF11_STD | ANY_OXM
