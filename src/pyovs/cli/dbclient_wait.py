"""``ovsdb-client wait``: a session that reconnects until the server answers.

``wait [SERVER] DATABASE added|connected|removed`` asks the server's
``_Server`` database, with a ``wait`` operation that has no timeout, for
the database's row to exist, to be connected, or to be gone; the server
answers when that is true.  Unlike the other commands it keeps trying to
connect, with OVS's reconnect back-off (at once, then 1, 2, 4, at most 8
seconds), and prints OVS's ``reconnect`` log lines on stderr while doing so
("connecting...", "connected", "connection attempt failed (...)").  Only
``-t`` (SIGALRM) or the answer ends it.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from typing import Any

from pyovs.ovsdb.client import connect
from pyovs.ovsdb.jsonrpc import JsonRpcProtocolError, MessageKind
from pyovs.ovsdb.table_format import json_to_string

from .cmdline import Fatal
from .dbfile import unsorted_json

__all__ = ["check_transaction_reply", "wait_for_database"]


def _wait_transaction(state: str, database: str) -> list[Any]:
    op: dict[str, Any] = {"op": "wait", "table": "Database",
                          "where": [["name", "==", database]], "until": "=="}
    if state == "connected":
        op.update(columns=["connected"], rows=[{"connected": True}])
    else:
        op.update(columns=[], rows=[{}] if state == "added" else [])
    return ["_Server", op]


class _ReconnectLog:
    """The console lines of OVS's ``reconnect`` module, as ``wait`` prints them."""

    def __init__(self, remote: str) -> None:
        self.remote = remote
        self.serial = 0
        self.quiet = False

    def info(self, message: str) -> None:
        if self.quiet:
            return
        self.serial += 1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sys.stdout.flush()
        sys.stderr.write(f"{stamp}|{self.serial:05d}|reconnect|INFO|{self.remote}: {message}\n")
        sys.stderr.flush()


def wait_for_database(remote: str, db: str, state: str) -> None:
    """``ovsdb-client wait``: return once ``db`` on ``remote`` is in ``state``."""
    if state not in ("connected", "added", "removed"):
        raise Fatal(f"{state}: unknown state")
    log = _ReconnectLog(remote)
    backoff = 0
    while True:
        # Reconnect as OVS's reconnect FSM does: at once, then after 1, 2, 4
        # and at most 8 seconds, logging until the backoff reaches its maximum.
        log.info("connecting...")
        try:
            rpc = connect(remote)
        except ValueError:
            raise Fatal(f'failed to connect or listen to "{remote}" '
                        f"({os.strerror(errno.EAFNOSUPPORT)})") from None
        except OSError as e:
            log.info(f"connection attempt failed ({e.strerror or e})")
            if backoff == 0:
                backoff = 1
            else:
                backoff = min(backoff * 2, 8)
                if backoff == 8:
                    log.info("continuing to reconnect in the background but suppressing "
                             "further logging")
                    log.quiet = True
                else:
                    log.info(f"waiting {backoff} seconds before reconnect")
            time.sleep(backoff)
            continue
        log.info("connected")
        try:
            sdca = rpc.request("set_db_change_aware", [True])
            txn = rpc.request("transact", _wait_transaction(state, db))
            reply = rpc.wait_reply(sdca)
            if reply.kind is MessageKind.ERROR:
                raise Fatal(f"{remote}: set_db_change_aware failed "
                            f"({unsorted_json(reply.error)})")
            check_transaction_reply(rpc.wait_reply(txn).result)
            return
        except (OSError, JsonRpcProtocolError):
            log.info("connection closed by peer")
            backoff = 0
        finally:
            rpc.close()


def check_transaction_reply(result: Any) -> None:
    if not isinstance(result, list):
        raise Fatal("result is not array")
    for item in result:
        if not isinstance(item, dict):
            raise Fatal("result array element is not object")
        if "error" in item:
            raise Fatal(f"server returned error reply: {json_to_string(item)}")
