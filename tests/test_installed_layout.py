"""What `pip install .` puts into site-packages: one namespace, batch_classifier, and it
works from there without torch."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "src", "inference", "trainer",
           "exported")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of this checkout (no build isolation: offline)."""
    tree = tmp_path_factory.mktemp("tree")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pt", "*.png"))
        else:
            shutil.copy(source, tree / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         str(tree), "-w", str(tree / "dist")],
        capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    return next((tree / "dist").glob("*.whl"))


def test_only_batch_classifier_at_the_top_level(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    packages = {name for name in top if not name.endswith((".dist-info", ".data"))}
    assert packages == {"batch_classifier"}
    for part in ("inference", "trainer"):  # every subpackage of the checkout is shipped
        for init in (ROOT / part).rglob("__init__.py"):
            inside = init.relative_to(ROOT).as_posix()
            assert f"batch_classifier/{inside}" in names


def test_plain_install_requires_no_torch(wheel):
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(archive.read(n) for n in archive.namelist()
                        if n.endswith(".dist-info/METADATA")).decode()
    plain = [line for line in metadata.splitlines()
             if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert plain and not [line for line in plain if "torch" in line or "timm" in line]


def test_installed_wheel_classifies_without_torch(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:  # what pip does with a pure wheel's purelib
        archive.extractall(site)
    data = tmp_path / "in.csv"
    data.write_text("lat,lon\n48.8566,2.3522\n52.52,13.405\n")
    script = (
        "import sys; sys.modules['torch'] = None\n"
        "import batch_classifier, pathlib\n"
        f"assert pathlib.Path(batch_classifier.__file__).is_relative_to({str(site)!r})\n"
        "from batch_classifier import CountryClassifier, FakeImageDetector\n"
        "codes = CountryClassifier().predict([48.8566, 52.52], [2.3522, 13.405]).country_code\n"
        "assert list(codes) == ['FR', 'DE'], codes\n"
        "from batch_classifier.inference.cities.cli import main\n"
        f"main([{str(data)!r}, '--model', {str(ROOT / 'exported/cities-eu.onnx')!r}, '-q'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120,
                          env={"PYTHONPATH": str(site),  # models: what the wheel installs
                               "BATCH_CLASSIFIER_MODELS": str(ROOT / "exported")})
    assert done.returncode == 0, done.stderr
    assert [line.split(",")[-3] for line in done.stdout.splitlines()[1:]] == ["FR", "DE"]


def test_installed_wheel_draws_the_report_map(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    script = ("from batch_classifier.inference.report.land import land_path\n"
              "assert land_path().count('M') > 1000\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stderr
