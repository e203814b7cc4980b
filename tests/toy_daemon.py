"""A minimal pyovs daemon for tests: the daemon options, a control socket, vlog.

Run as ``python tests/toy_daemon.py [--program NAME] [daemon options]``.  It
is what a real pyovs daemon's main looks like, minus the actual work, so the
daemon and unixctl tests (and the interop tests with the real ovs-appctl)
exercise the same start-up sequence:

    parse (normalize_argv) -> Daemon(...) -> start() -> UnixctlServer.start()
    -> complete() -> wait_for_shutdown() -> close the socket -> cleanup()

Test commands: ``test/echo ARG...`` (1 to 3 args, echoes them), ``test/fail``
(error reply), ``test/log LEVEL TEXT`` (logs TEXT through the ``pyovs.toy``
logger, vlog module ``toy``), ``test/sleep SECS`` (async handler) and
``exit``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from pyovs import daemon, unixctl

log = logging.getLogger("pyovs.toy")


def _fail(args: list[str]) -> str:
    raise unixctl.UnixctlError("this command always fails")


def _log(args: list[str]) -> str:
    log.log(logging.getLevelName(args[0].upper()), "%s", args[1])
    return ""


async def _sleep(args: list[str]) -> str:
    await asyncio.sleep(float(args[0]))
    return f"slept {args[0]}"


async def serve(d: daemon.Daemon, program: str) -> int:
    server = unixctl.UnixctlServer(program, d.options.unixctl)
    server.register_vlog(d.vlog)
    server.register("test/echo", "ARG...", 1, 3, lambda args: " ".join(args))
    server.register("test/fail", "", 0, 0, _fail)
    server.register("test/log", "LEVEL TEXT", 2, 2, _log)
    server.register("test/sleep", "SECS", 1, 1, _sleep)
    server.register("exit", "", 0, 0, lambda args: d.request_shutdown())
    d.install_signal_handlers()
    try:
        await server.start()
    except OSError as e:
        d.fatal(f"could not initialize control socket: {e}")
    log.info("%s started", program)
    d.complete()
    code = await d.wait_for_shutdown()
    await server.close()
    return code


def main() -> None:
    parser = argparse.ArgumentParser(prog="toy_daemon")
    parser.add_argument("--program", default="pyovs-toyd")
    parser.add_argument("--fail-before-ready", action="store_true")
    daemon.add_daemon_args(parser)
    ns = parser.parse_args(daemon.normalize_argv(sys.argv[1:]))
    d = daemon.Daemon(ns.program, daemon.DaemonOptions.from_namespace(ns))
    d.start()
    if ns.fail_before_ready:
        d.fatal("failing on purpose before ready")
    asyncio.run(serve(d, ns.program))
    d.cleanup()


if __name__ == "__main__":
    main()
