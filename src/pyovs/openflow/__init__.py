"""OpenFlow as Open vSwitch speaks it: fields, matches, actions, messages.

The package is a protocol library with no I/O.  Its layers, bottom up:

* ``fields`` (the match-field table, as OVS's ``meta-flow.h``), ``values``
  (field values as flow text) and ``ports`` (port numbers and names);
* ``match`` (a ``Match`` value: storage, prerequisites, NXM/OXM and the
  OpenFlow 1.0 ``ofp_match``) and ``match_text`` (ovs-ofctl match syntax);
* ``errors`` (the OFPERR table and ``OFError``, the one exception decoders
  raise for bad input).

Everything here is checked against the real Open vSwitch 3.1 (``ovs-ofctl``)
in ``tests/interop/test_openflow_*.py``.
"""
