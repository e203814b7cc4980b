"""Default directories and their environment overrides (pyovs.dirs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyovs import dirs


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for var in ("OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_PKGDATADIR",
                "XDG_RUNTIME_DIR", "XDG_STATE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_env_overrides_and_ensure(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var, func in (("OVS_RUNDIR", dirs.rundir), ("OVS_DBDIR", dirs.dbdir),
                      ("OVS_LOGDIR", dirs.logdir)):
        target = tmp_path / var / "sub"
        clean_env.setenv(var, str(target))
        assert func() == str(target)
        assert not target.exists()  # asking for a name creates nothing
        assert func(ensure=True) == str(target)
        assert target.is_dir()


def test_empty_variable_counts_as_unset(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("OVS_RUNDIR", "")
    clean_env.setattr(dirs, "_is_root", lambda: True)
    assert dirs.rundir() == "/var/run/pyovs"


def test_root_defaults_never_collide_with_ovs(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setattr(dirs, "_is_root", lambda: True)
    assert (dirs.rundir(), dirs.dbdir(), dirs.logdir()) == (
        "/var/run/pyovs", "/var/lib/pyovs", "/var/log/pyovs")
    for d in (dirs.rundir(), dirs.dbdir(), dirs.logdir()):
        assert "openvswitch" not in d


def test_non_root_defaults(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setattr(dirs, "_is_root", lambda: False)
    state = tmp_path / "home" / ".local" / "state" / "pyovs"
    assert dirs.rundir() == str(state / "run")
    assert dirs.dbdir() == str(state / "db")
    assert dirs.logdir() == str(state / "log")
    clean_env.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))
    clean_env.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    assert dirs.rundir() == str(tmp_path / "xdg" / "pyovs")
    assert dirs.dbdir() == str(tmp_path / "st" / "pyovs" / "db")


def test_pkgdatadir_holds_the_bundled_schemas(clean_env: pytest.MonkeyPatch) -> None:
    assert (Path(dirs.pkgdatadir()) / "vswitch.ovsschema").is_file()
    clean_env.setenv("OVS_PKGDATADIR", "/somewhere")
    assert dirs.pkgdatadir() == "/somewhere"


def test_abs_file_name() -> None:
    assert dirs.abs_file_name("/run", "x.pid") == "/run/x.pid"
    assert dirs.abs_file_name("/run", "/abs/x.pid") == "/abs/x.pid"
