"""Shared pytest wiring: markers that skip cleanly, and server fixtures.

Markers:

* ``real_ovs``     -- needs the real ovsdb-server/ovsdb-tool (Debian packages);
  skipped with the reason when they are absent.
* ``pyovs_server`` -- needs pyovs's own ``pyovsdb-server``; skipped while
  ``pyovs.ovsdb.server_main`` does not exist.

Fixtures:

* ``kind``         -- parametrised over ``"real"`` and ``"pyovs"``; skips the
  kinds that cannot run here.  Test ids end in ``[real]`` / ``[pyovs]`` so
  ``pytest -k real`` runs the half that validates the tests themselves.
* ``db_server``    -- a started ``peers.DbServer`` of that kind on the bundled
  vswitch schema, stopped and removed afterwards.
* ``raw_client``   -- a ``peers.RawClient`` connected to ``db_server``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_ovs: needs the real ovsdb-server and ovsdb-tool (skipped if absent)")
    config.addinivalue_line(
        "markers", "pyovs_server: needs pyovs's pyovsdb-server (skipped until it exists)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("real_ovs") is not None:
        reason = peers.real_available()
        if reason:
            pytest.skip(reason)
    if item.get_closest_marker("pyovs_server") is not None:
        reason = peers.pyovs_available()
        if reason:
            pytest.skip(reason)


def skip_unless_kind(kind: str) -> None:
    """Skip the running test if servers of ``kind`` cannot run here."""
    reason = peers.kind_unavailable(kind)
    if reason:
        pytest.skip(reason)


@pytest.fixture(params=list(peers.KINDS))
def kind(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    skip_unless_kind(name)
    return name


@pytest.fixture
def db_server(kind: str, tmp_path: Path) -> Iterator[peers.DbServer]:
    with peers.DbServer(kind, "vswitch", tmp_dir=tmp_path) as server:
        yield server


@pytest.fixture
def raw_client(db_server: peers.DbServer) -> Iterator[peers.RawClient]:
    with peers.connect(db_server) as client:
        yield client
