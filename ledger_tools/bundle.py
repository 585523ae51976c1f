"""The offline bundle for Windows PCs without internet: wheels, install.bat and double-click jobs.

    python -m ledger_tools.bundle --out 配布用 [--config 設定.toml] [--zip]

Run it from the source folder on a machine with internet. It writes:

- ``wheels/``: this project's wheel and every dependency's Windows (win_amd64) wheel for each
  supported Python (3.11, 3.12, 3.13), so ``pip install --no-index`` finds everything;
- ``install.bat``: makes ``.venv`` beside itself with the installed Python (``py -3.13/3.12/3.11``)
  and installs from ``wheels/`` without network;
- ``月次集計.bat`` and ``年次公表.bat``: run ``aggregate`` / ``run`` on the folders named in the
  configuration's ``[folders]`` (``inbox``, ``out``), with that configuration (``設定.toml``);
- ``設定.toml`` (a copy of ``--config``, or the bundled sample) and ``はじめにお読みください.txt``.

The .bat files are UTF-8 with CRLF line endings and switch the console to UTF-8 (``chcp 65001``)
before any Japanese line; every path is quoted; each ends with its exit code and ``pause`` so the
window stays open after a double click.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ledger_tools.argparse_ja import JapaneseArgumentParser
from ledger_tools.config import Config, ConfigError, default_config_text, load_config, read_toml_text

PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
PLATFORM = "win_amd64"
WHEELS = "wheels"
CONFIG_NAME = "設定.toml"
SOURCE_ROOT = Path(__file__).resolve().parent.parent
EXIT_CODES = "0 = 問題なし、1 = 要修正・読み取り不可の記録あり（又は公表を中止）、2 = 指定の誤り等"


class BundleError(Exception):
    """The bundle cannot be built (Japanese message)."""


def bat_text(lines: list[str]) -> bytes:
    """A .bat file as cmd.exe reads it: ASCII first lines, then UTF-8 after chcp 65001, CRLF."""
    head = ["@echo off", "chcp 65001 >nul", "setlocal", 'cd /d "%~dp0"']
    return ("\r\n".join([*head, *lines]) + "\r\n").encode("utf-8")


def bat_value(path: str) -> str:
    """A path for ``set "NAME=..."``: % doubled (cmd expands it even in quotes); no trailing
    backslash, which would escape the closing quote for the program that receives it."""
    value = path.strip().replace("%", "%%")
    if value.endswith(("\\", "/")):
        value += "."
    return value


_PYTHON = '"%~dp0.venv\\Scripts\\python.exe"'
_FINISH = [
    'set "RC=%ERRORLEVEL%"',
    "echo.",
    f"echo 終了コード: %RC%（{EXIT_CODES}）",
    "pause",
    "exit /b %RC%",
]


def install_bat() -> bytes:
    return bat_text(
        [
            "echo ledger-tools をこのフォルダの .venv にインストールします（インターネットは使いません）。",
            'set "PY="',
            "where py >nul 2>&1",
            "if errorlevel 1 goto :nopython",
            *[
                f'if not defined PY (py -{v} -c "import sys" >nul 2>&1 && set "PY=py -{v}")'
                for v in reversed(PYTHON_VERSIONS)
            ],
            "if not defined PY goto :nopython",
            "echo 使う Python: %PY%",
            '%PY% -m venv "%~dp0.venv"',
            "if errorlevel 1 goto :failed",
            f'{_PYTHON} -m pip install --no-index --find-links "%~dp0{WHEELS}" --upgrade ledger-tools',
            "if errorlevel 1 goto :failed",
            f"{_PYTHON} -m ledger_tools --version",
            "echo インストールが終わりました。月次集計.bat・年次公表.bat をダブルクリックして使えます。",
            'set "RC=0"',
            "goto :end",
            ":nopython",
            "echo Python 3.11、3.12 又は 3.13 が見つかりません。python.org の Windows 用インストーラで入れてから、もう一度実行してください。",
            'set "RC=2"',
            "goto :end",
            ":failed",
            "echo インストールできませんでした。上のメッセージを確認してください。",
            'set "RC=2"',
            ":end",
            "echo.",
            "echo 終了コード: %RC%",
            "pause",
            "exit /b %RC%",
        ]
    )


def _folder_lines(config: Config) -> list[str]:
    return [f'set "INBOX={bat_value(config.folders.inbox)}"', f'set "OUT={bat_value(config.folders.out)}"']


def monthly_bat(config: Config) -> bytes:
    return bat_text(
        [
            *_folder_lines(config),
            "echo 月次の集計",
            'echo 提出フォルダ: "%INBOX%"',
            'echo 集計フォルダ: "%OUT%"',
            f'{_PYTHON} -m ledger_tools aggregate "%INBOX%" --out "%OUT%" --config "%~dp0{CONFIG_NAME}"',
            *_FINISH,
        ]
    )


def yearly_bat(config: Config) -> bytes:
    return bat_text(
        [
            *_folder_lines(config),
            'set "FY="',
            "set /p FY=公表する年度（例: R7、令和7、2025）: ",
            'if not defined FY (set "RC=2" & echo 年度が入力されませんでした。 & pause & exit /b 2)',
            "echo 年度の公表: 提出フォルダを集計し、集計フォルダに公表用のファイルを書き出します。",
            'echo 提出フォルダ: "%INBOX%"',
            'echo 集計フォルダ: "%OUT%"',
            f'{_PYTHON} -m ledger_tools run "%INBOX%" --fiscal-year "%FY%" --out "%OUT%" --config "%~dp0{CONFIG_NAME}"',
            *_FINISH,
        ]
    )


README_TEXT = """ledger-tools のインストール（インターネットのないパソコン）

1. このフォルダを丸ごとパソコンにコピーします（日本語の名前のフォルダでも構いません）。
2. Python 3.11、3.12 又は 3.13（python.org の Windows 用インストーラ）が入っていることを確かめます。
3. install.bat をダブルクリックします。このフォルダの .venv にインストールします（ネットワークは使いません）。
4. 月次集計.bat（毎月）、年次公表.bat（年度の公表。年度を聞かれます）をダブルクリックします。
   使うフォルダと設定は 設定.toml の [folders]（inbox = 提出フォルダ、out = 集計フォルダ）です。
   設定を変えたときは、このフォルダを作り直すか、.bat の INBOX・OUT の行を直してください。

終了コード: {codes}
コマンドを直接使うとき: .venv\\Scripts\\python.exe -m ledger_tools --help
"""


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BundleError(
            "pip が失敗しました（" + " ".join(args[:1]) + "）:\n" + (result.stderr or result.stdout)[-3000:]
        )


def build_project_wheel(target: Path, source: Path = SOURCE_ROOT) -> Path:
    if not (source / "pyproject.toml").is_file():
        raise BundleError(f"ソースのフォルダ（pyproject.toml のあるフォルダ）から実行してください: {source}")
    with tempfile.TemporaryDirectory() as scratch:
        # Built from a clean copy: setuptools reuses build/, where a module since removed would linger.
        copy = Path(scratch) / "src"
        copy.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(source / name, copy / name)
        shutil.copytree(
            source / "ledger_tools", copy / "ledger_tools", ignore=shutil.ignore_patterns("__pycache__")
        )
        _pip("wheel", str(copy), "--no-deps", "--wheel-dir", scratch)
        (wheel,) = Path(scratch).glob("ledger_tools-*.whl")
        return Path(shutil.copy2(wheel, target / wheel.name))


def _download(requirements: list[str], version: str, target: Path) -> None:
    _pip(
        "download",
        *requirements,
        "--only-binary=:all:",
        "--platform",
        PLATFORM,
        "--python-version",
        version,
        "--implementation",
        "cp",
        "--dest",
        str(target),
    )


def download_dependencies(project_wheel: Path, target: Path) -> None:
    """Every dependency's win_amd64 wheel for each supported Python, beside the project's wheel.

    pip evaluates environment markers for the machine it runs on, not for ``--platform``: a
    dependency only Windows needs (tqdm's ``colorama; platform_system == "Windows"``) is found
    by reading the wheels' own requirements with Windows' markers, then downloaded too.
    """
    for version in PYTHON_VERSIONS:
        _download([str(project_wheel)], version, target)
        for _round in range(10):
            missing = missing_requirements(target, version)
            if not missing:
                break
            _download(missing, version, target)
        else:
            raise BundleError(f"Python {version} 用の wheel がそろいません: {', '.join(missing)}")


def _packaging():
    try:
        import packaging.requirements as requirements
        import packaging.utils as utils
    except ImportError:  # pip vendors it
        from pip._vendor.packaging import requirements, utils  # type: ignore[no-redef]
    return requirements, utils


def windows_environment(version: str) -> dict[str, str]:
    """The environment markers of CPython ``version`` on 64-bit Windows."""
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{version}.0",
        "os_name": "nt",
        "platform_machine": "AMD64",
        "platform_python_implementation": "CPython",
        "platform_release": "10",
        "platform_system": "Windows",
        "platform_version": "10.0.19045",
        "python_full_version": f"{version}.0",
        "python_version": version,
        "sys_platform": "win32",
        "extra": "",
    }


def _fits(tags, version: str) -> bool:
    minor = int(version.split(".")[1])
    for tag in tags:
        interpreter, platform = tag.interpreter, tag.platform
        if platform not in ("any", PLATFORM):
            continue
        if interpreter.startswith("py3") or interpreter == f"cp3{minor}":
            return True
        if tag.abi == "abi3" and interpreter.startswith("cp3") and int(interpreter[3:]) <= minor:
            return True
    return False


def missing_requirements(wheels: Path, version: str) -> list[str]:
    """The requirements (with Windows' markers for ``version``) that no wheel in ``wheels`` meets."""
    import email.parser
    import zipfile

    requirements, utils = _packaging()
    environment = windows_environment(version)
    available: dict[str, list] = {}
    needed = []
    for wheel in sorted(wheels.glob("*.whl")):
        name, wheel_version, _build, tags = utils.parse_wheel_filename(wheel.name)
        if not _fits(tags, version):
            continue
        available.setdefault(name, []).append(wheel_version)
        with zipfile.ZipFile(wheel) as archive:
            metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            metadata = email.parser.BytesParser().parsebytes(archive.read(metadata_name), headersonly=True)
        for line in metadata.get_all("Requires-Dist") or []:
            requirement = requirements.Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                needed.append(requirement)
    missing = []
    for requirement in needed:
        versions = available.get(utils.canonicalize_name(requirement.name), [])
        if not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
            missing.append(f"{requirement.name}{requirement.specifier}")
    return sorted(set(missing))


def write_bundle(out: Path, config_path: Path | None, *, download: bool = True) -> list[Path]:
    """Write the bundle into ``out``; returns the files written (wheels included when ``download``)."""
    config = load_config(config_path)
    out.mkdir(parents=True, exist_ok=True)
    wheels = out / WHEELS
    wheels.mkdir(exist_ok=True)
    if download:
        download_dependencies(build_project_wheel(wheels), wheels)
    config_text = read_toml_text(config_path) if config_path else default_config_text()
    files: dict[str, bytes] = {
        "install.bat": install_bat(),
        CONFIG_NAME: config_text.encode("utf-8"),
        "はじめにお読みください.txt": README_TEXT.format(codes=EXIT_CODES)
        .replace("\n", "\r\n")
        .encode("utf-8"),
    }
    if config.folders.inbox and config.folders.out:
        files["月次集計.bat"] = monthly_bat(config)
        files["年次公表.bat"] = yearly_bat(config)
    for name, data in files.items():
        (out / name).write_bytes(data)
    return sorted([*(out / name for name in files), *wheels.glob("*.whl")])


def main(argv: list[str] | None = None) -> int:
    parser = JapaneseArgumentParser(
        prog="python -m ledger_tools.bundle",
        description="インターネットのない Windows のパソコンに入れるためのフォルダ（wheel・install.bat・"
        "月次集計.bat・年次公表.bat）を作ります。インターネットにつながるパソコンで、ソースのフォルダから実行します。",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="作るフォルダ")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE.toml",
        help="同梱する設定ファイル（[folders] の inbox・out が .bat のフォルダになる。既定: サンプル県の設定）",
    )
    parser.add_argument("--zip", action="store_true", help="フォルダと同じ名前の .zip も作る")
    args = parser.parse_args(argv)
    try:
        files = write_bundle(args.out, args.config)
    except (BundleError, ConfigError) as e:
        print(f"ledger-tools: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(
            f"ledger-tools: 配布用のフォルダを書き出せません（{args.out}）: {e.strerror or e}",
            file=sys.stderr,
        )
        return 2
    size = sum(p.stat().st_size for p in files)
    print(f"配布用のフォルダを作りました: {args.out}（{len(files)}ファイル、{size / 1e6:.1f} MB）")
    if not (args.out / "月次集計.bat").exists():
        print(
            "設定ファイルに [folders] の inbox と out がないため、月次集計.bat・年次公表.bat は作りませんでした。"
        )
    if args.zip:
        archive = shutil.make_archive(str(args.out), "zip", root_dir=args.out.parent, base_dir=args.out.name)
        print(f"zip を作りました: {archive}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
