"""`make run`'s first step, scripts/check_system.py: the system libraries
WeasyPrint needs, installed with apt when it can, else the command to run."""

import importlib.util
import subprocess
import sys

import pytest
from django.conf import settings

SCRIPT = settings.BASE_DIR / "scripts" / "check_system.py"


@pytest.fixture
def check():
    spec = importlib.util.spec_from_file_location("check_system", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_decision(check):
    assert check.decide([], is_root=False, has_apt=False) == "ok"
    assert check.decide([], is_root=True, has_apt=True) == "ok"
    missing = ["libharfbuzz-subset0"]
    assert check.decide(missing, is_root=True, has_apt=True) == "install"
    assert check.decide(missing, is_root=False, has_apt=True) == "instruct"
    assert check.decide(missing, is_root=True, has_apt=False) == "instruct"


def test_missing_libraries_read_from_the_linker_cache(check):
    cache = (
        "\tlibpango-1.0.so.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libpango-1.0.so.0\n"
        "\tlibpangoft2-1.0.so.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libpangoft2-1.0.so.0\n"
    )
    assert check.missing_libraries(cache) == ["libharfbuzz-subset0"]
    assert check.missing_libraries("") == [
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz-subset0",
    ]


def test_missing_fonts(check, monkeypatch):
    monkeypatch.setattr(check.shutil, "which", lambda name: None)
    assert check.missing_fonts() == ["fontconfig", "fonts-dejavu-core"]
    monkeypatch.setattr(check.shutil, "which", lambda name: "/usr/bin/fc-list")
    monkeypatch.setattr(check, "_run", lambda command: "Liberation Sans\n")
    assert check.missing_fonts() == ["fonts-dejavu-core"]
    monkeypatch.setattr(check, "_run", lambda command: "DejaVu Sans\nDejaVu Serif\n")
    assert check.missing_fonts() == []


def test_weasyprint_failing_with_libraries_present_asks_for_everything(check, monkeypatch):
    monkeypatch.setattr(check, "missing_libraries", lambda cache: [])
    monkeypatch.setattr(check, "missing_fonts", lambda: [])
    monkeypatch.setattr(check, "weasyprint_error", lambda: "OSError: cannot load library")
    assert check.missing_packages() == check.ALL_PACKAGES


def test_not_root_stops_with_the_exact_command(check, monkeypatch, capsys):
    monkeypatch.setattr(check, "missing_packages", lambda: ["libharfbuzz-subset0"])
    monkeypatch.setattr(check.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(check.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(check, "apt_install", lambda packages: pytest.fail("no apt as a user"))
    assert check.main() == 1
    err = capsys.readouterr().err
    assert "Bibliothèques système manquantes" in err
    assert "sudo apt-get update && sudo apt-get install -y libharfbuzz-subset0" in err


def test_root_with_apt_installs_then_checks_again(check, monkeypatch):
    answers = iter([["libharfbuzz-subset0", "fonts-dejavu-core"], []])
    installed = []
    monkeypatch.setattr(check, "missing_packages", lambda: next(answers))
    monkeypatch.setattr(check.os, "geteuid", lambda: 0)
    monkeypatch.setattr(check.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(check, "apt_install", lambda packages: installed.append(packages) or True)
    assert check.main() == 0
    assert installed == [["libharfbuzz-subset0", "fonts-dejavu-core"]]


def test_a_failed_install_stops_with_the_command(check, monkeypatch, capsys):
    monkeypatch.setattr(check, "missing_packages", lambda: ["libpango-1.0-0"])
    monkeypatch.setattr(check.os, "geteuid", lambda: 0)
    monkeypatch.setattr(check.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(check, "apt_install", lambda packages: False)
    assert check.main() == 1
    assert "apt-get update && apt-get install -y libpango-1.0-0" in capsys.readouterr().err


def test_this_machine_passes():
    """Here everything is installed: the script says nothing and exits 0."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
