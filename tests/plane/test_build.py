"""The build's failure path: a part that cannot be had is named, with why, to the tests that need it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plane import _build


def test_a_missing_part_tells_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_PLANE_CACHE", str(tmp_path))
    with pytest.raises(_build.PartUnavailable, match=r"kube-apiserver is not built; run scripts/build-plane"):
        _build.locate("kubernetes", "kube-apiserver")


def test_a_build_without_go_records_the_reason_and_the_part_reports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BATON_PLANE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))

    assert _build.build_all(["etcd"]) == 1

    out = capsys.readouterr().out
    assert f"{_build.ETCD.key}: FAILED" in out
    assert "UNAVAILABLE: etcd-" in out
    with pytest.raises(
        _build.PartUnavailable, match=r"etcd-v3\.6\.\d+: build failed: no Go toolchain on PATH"
    ):
        _build.locate("etcd", "etcd")


def test_a_cached_part_is_not_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_PLANE_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # a rebuild would fail: no Go
    part_dir = _build.HELM.dir()
    (part_dir / "bin").mkdir(parents=True)
    (part_dir / "bin" / "helm").write_text("#!/bin/sh\n")
    (part_dir / _build.DONE_FILE).write_text("{}")

    assert _build.build_part(_build.HELM) is True
    assert _build.locate("helm", "helm") == part_dir / "bin" / "helm"
