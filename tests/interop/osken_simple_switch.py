"""A tiny OpenFlow 1.3 learning switch for os-ken, and the program that runs it.

This is the classic ``simple_switch_13`` of the Ryu/os-ken tutorials, kept
small: on connect it installs the table-miss flow (priority 0, all packets
to the controller, unbuffered); on each packet-in it learns the source MAC
on the input port, installs a priority-1 flow (in_port, eth_src, eth_dst ->
output) once the destination is known, and sends the packet out (flooding
while the destination is unknown).  Every packet-in is logged so a test can
count them.

    python osken_simple_switch.py PORT LOGFILE

listens on ``127.0.0.1:PORT`` (os-ken 4 has no ``osken-manager`` command,
so this is its ``main``: parse os-ken's options, load this module as the
only application, run until killed).  It runs in a process of its own
because os-ken monkey-patches the standard library with eventlet.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3

log = logging.getLogger("simple_switch_13")


class SimpleSwitch13(app_manager.OSKenApp):  # type: ignore[misc]
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mac_to_port: dict[int, dict[str, int]] = {}

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)  # type: ignore[misc]
    def switch_features_handler(self, ev: Any) -> None:
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        actions = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)]
        self.add_flow(dp, 0, parser.OFPMatch(), actions)
        log.info("switch %016x connected", dp.id)

    def add_flow(self, dp: Any, priority: int, match: Any, actions: list[Any]) -> None:
        ofp, parser = dp.ofproto, dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=priority, match=match,
                                      instructions=inst))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)  # type: ignore[misc]
    def packet_in_handler(self, ev: Any) -> None:
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        table = self.mac_to_port.setdefault(dp.id, {})
        table[eth.src] = in_port
        out_port = table.get(eth.dst, ofp.OFPP_FLOOD)
        log.info("packet-in %016x in_port=%d %s->%s out=%d", dp.id, in_port, eth.src, eth.dst,
                 out_port)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_dst=eth.dst, eth_src=eth.src)
            self.add_flow(dp, 1, match, actions)
        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=msg.buffer_id,
                                        in_port=in_port, actions=actions, data=data))


def main(argv: list[str]) -> None:
    from os_ken import cfg

    port, logfile = argv[1], argv[2]
    logging.basicConfig(filename=logfile, level=logging.INFO,
                        format="%(asctime)s %(name)s %(message)s")
    cfg.CONF(args=["--ofp-tcp-listen-port", port, "--ofp-listen-host", "127.0.0.1"],
             project="os_ken")
    app_manager.AppManager.run_apps(["osken_simple_switch"])


if __name__ == "__main__":
    main(sys.argv)
