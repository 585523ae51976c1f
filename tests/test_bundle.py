"""The offline bundle for Windows: the .bat files a 総務課 double-clicks, and a wheel folder that
installs without network on every supported Python."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from conftest import IN_CI

from ledger_tools.bundle import PYTHON_VERSIONS, main, missing_requirements, write_bundle
from ledger_tools.config import load_config

FOLDERS = (
    '[folders]\ninbox = "\\\\\\\\庁内サーバ\\\\共有\\\\提出 R7"\nout = "D:\\\\働きかけ\\\\集計 100%\\\\"\n'
)


@pytest.fixture
def config_file(tmp_path):
    from ledger_tools.config import default_config_text

    path = tmp_path / "設定.toml"
    path.write_text(FOLDERS + default_config_text(), encoding="utf-8")
    return path


def test_the_folders_are_read_from_the_configuration(config_file):
    config = load_config(config_file)
    assert config.folders.inbox == "\\\\庁内サーバ\\共有\\提出 R7"
    assert config.folders.out == "D:\\働きかけ\\集計 100%\\"
    assert load_config().folders.inbox == ""


def test_bat_files_are_generated_from_the_configuration(tmp_path, config_file):
    out = tmp_path / "配布用"
    write_bundle(out, config_file, download=False)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        ["install.bat", "月次集計.bat", "年次公表.bat", "設定.toml", "はじめにお読みください.txt", "wheels"]
    )
    for name in ("install.bat", "月次集計.bat", "年次公表.bat"):
        data = (out / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf"), "a BOM would break @echo off"
        assert data.count(b"\n") == data.count(b"\r\n"), f"{name}: every line ends with CRLF"
        lines = data.decode("utf-8").split("\r\n")
        assert lines[:2] == ["@echo off", "chcp 65001 >nul"]
        assert lines[-3:] == ["pause", "exit /b %RC%", ""]
        assert any(line.startswith("echo 終了コード: %RC%") for line in lines)
    monthly = (out / "月次集計.bat").read_text(encoding="utf-8")
    assert 'set "INBOX=\\\\庁内サーバ\\共有\\提出 R7"' in monthly
    assert 'set "OUT=D:\\働きかけ\\集計 100%%\\."' in monthly  # % doubled; no backslash before a quote
    assert (
        '"%~dp0.venv\\Scripts\\python.exe" -m ledger_tools aggregate "%INBOX%" --out "%OUT%" '
        '--config "%~dp0設定.toml"' in monthly
    )
    yearly = (out / "年次公表.bat").read_text(encoding="utf-8")
    assert "set /p FY=" in yearly
    assert '-m ledger_tools run "%INBOX%" --fiscal-year "%FY%" --out "%OUT%"' in yearly
    install = (out / "install.bat").read_text(encoding="utf-8")
    assert 'pip install --no-index --find-links "%~dp0wheels"' in install
    assert install.index("py -3.13") < install.index("py -3.12") < install.index("py -3.11")
    assert load_config(out / "設定.toml").folders == load_config(config_file).folders


def test_without_folders_no_job_files_are_written(tmp_path):
    out = tmp_path / "配布用"
    write_bundle(out, None, download=False)
    assert not (out / "月次集計.bat").exists() and (out / "install.bat").exists()


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    """The real bundle, built once per session (pip's own cache keeps later builds short)."""
    if not IN_CI and not _pypi_reachable():
        pytest.skip("PyPI is not reachable (the bundle test needs network; it always runs under CI=true)")
    out = tmp_path_factory.mktemp("bundle") / "配布用"
    config = tmp_path_factory.mktemp("config") / "設定.toml"
    from ledger_tools.config import default_config_text

    config.write_text(FOLDERS + default_config_text(), encoding="utf-8")
    assert main(["--out", str(out), "--config", str(config)]) == 0
    return out


@pytest.mark.network
def test_the_bundle_holds_the_project_wheel_and_is_not_tiny(bundle):
    wheels = sorted(p.name for p in (bundle / "wheels").glob("*.whl"))
    assert any(name.startswith("ledger_tools-") for name in wheels)
    assert any(name.startswith("colorama-") for name in wheels), "tqdm needs colorama on Windows"
    for version in PYTHON_VERSIONS:
        tag = "cp3" + version.split(".")[1]
        assert any(
            name.startswith("pydantic_core-") and f"-{tag}-" in name and "win_amd64" in name
            for name in wheels
        )


@pytest.mark.network
@pytest.mark.parametrize("version", PYTHON_VERSIONS)
def test_the_bundle_resolves_completely_for_windows_without_network(bundle, tmp_path, version):
    # Windows' environment markers: pip applies the running machine's, whatever --platform says.
    assert missing_requirements(bundle / "wheels", version) == []
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--no-index",
            "--find-links",
            str(bundle / "wheels"),
            "--platform",
            "win_amd64",
            "--python-version",
            version,
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--dest",
            str(tmp_path),
            "ledger-tools",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert any(p.name.startswith("pandas-") for p in tmp_path.iterdir())
