"""Where pyovs-ofctl connects: ovs-ofctl's target resolution (``open_vconn__``).

ovs-ofctl accepts a switch as a connection string or as a name:

* a name with a colon is a connection string (``unix:PATH``, ``tcp:IP[:PORT]``)
  and is opened as it is;
* otherwise these Unix sockets are tried in order, a missing file (ENOENT)
  moving on to the next and any other failure being fatal:
  the name itself as a path, ``<rundir>/<name>.mgmt``, then
  ``<rundir>/<datapath>.mgmt`` where ``TYPE@DATAPATH`` names a datapath
  (``ofproto_parse_name``); if none exists the name "is not a bridge or a
  socket".

``<rundir>`` is ``OVS_RUNDIR`` when set (``pyovs.dirs.rundir``), so a bridge
of the real ovs-vswitchd started with that variable is found by name.  The
resolution (``candidates``) is pure; ``open_target`` does the socket work
and returns a connected, blocking socket for the OpenFlow session.
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass

from pyovs import dirs
from pyovs.cli.cmdline import Fatal

__all__ = ["Target", "candidates", "open_target"]

OFP_PORT = 6653
"""Default OpenFlow TCP port (OVS ``OFP_PORT``)."""


@dataclass(frozen=True, slots=True)
class Target:
    """How to reach a switch: a connection string, or Unix sockets to try in order."""

    vconn: str | None
    paths: tuple[str, ...] = ()


def candidates(name: str, rundir: str | None = None) -> Target:
    """ovs-ofctl's order of attempts for the switch ``name``."""
    if ":" in name:
        return Target(name)
    run = dirs.rundir() if rundir is None else rundir
    datapath = name.split("@", 1)[1] if "@" in name else name
    return Target(None, (name, f"{run}/{name}.mgmt", f"{run}/{datapath}.mgmt"))


def _strerror(code: int) -> str:
    return os.strerror(code)


def _connect_unix(path: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except BaseException:
        s.close()
        raise
    return s


def _host_port(rest: str) -> tuple[str, int]:
    """``IP[:PORT]`` or ``[IPv6][:PORT]``; ``ValueError`` if the port is not a number."""
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    else:
        host, _, port = rest.partition(":")
    return host, int(port) if port else OFP_PORT


def _open_vconn(name: str) -> socket.socket:
    kind, _, rest = name.partition(":")
    try:
        if kind == "unix":
            return _connect_unix(rest)
        if kind == "tcp":
            host, port = _host_port(rest)
            return socket.create_connection((host, port))
    except OSError as e:
        raise Fatal(f"connecting to {name} ({_strerror(e.errno or 0)})") from None
    except ValueError:
        pass
    raise Fatal(f"connecting to {name} ({_strerror(errno.EAFNOSUPPORT)})")


def open_target(name: str, rundir: str | None = None) -> socket.socket:
    """Connect to ``name`` as ovs-ofctl would; ``Fatal`` with its messages."""
    target = candidates(name, rundir)
    if target.vconn is not None:
        return _open_vconn(target.vconn)
    for path in target.paths:
        try:
            return _connect_unix(path)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise Fatal(f"{path}: failed to open socket ({_strerror(e.errno or 0)})") \
                    from None
    raise Fatal(f"{name} is not a bridge or a socket")
