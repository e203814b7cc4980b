"""``pyovs-dpctl``: the datapath of a running pyovs-vswitchd.

The kernel datapath that ``ovs-dpctl`` reads directly does not exist for
pyovs: its datapath lives inside ``pyovs-vswitchd``.  So, like
``ovs-appctl dpctl/...`` for OVS's netdev datapath, ``pyovs-dpctl COMMAND``
sends ``dpctl/COMMAND`` to the daemon's control socket (found through
``<rundir>/pyovs-vswitchd.pid``, or ``-t TARGET``) and prints the answer:

    pyovs-dpctl show
    pyovs-dpctl dump-flows [-m]
"""

from __future__ import annotations

import sys

from pyovs.unixctl import UnixctlTargetError, resolve_target, unixctl_call

__all__ = ["main"]

COMMANDS = ("show", "dump-flows")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    target = "pyovs-vswitchd"
    if len(args) >= 2 and args[0] in ("-t", "--target"):
        target, args = args[1], args[2:]
    if not args or args[0] not in COMMANDS:
        print("usage: pyovs-dpctl [-t TARGET] show|dump-flows [-m]", file=sys.stderr)
        return 2
    try:
        path = resolve_target(target)
        ok, text = unixctl_call(path, f"dpctl/{args[0]}", args[1:], timeout=10)
    except (UnixctlTargetError, OSError) as e:
        print(f"pyovs-dpctl: {e}", file=sys.stderr)
        return 1
    (sys.stdout if ok else sys.stderr).write(text)
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
