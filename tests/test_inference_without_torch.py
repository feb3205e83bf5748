"""The inference package must work where torch is not installed."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
sys.modules["torch"] = None  # any 'import torch' now raises ImportError
from click.testing import CliRunner
from batch_classifier.inference.cities.cli import main
result = CliRunner().invoke(main, [sys.argv[1], "--model", sys.argv[2], "-q"])
assert result.exit_code == 0, result.output
assert "FR" in result.stdout, result.stdout
loaded = [name for name in sys.modules if name.split(".")[0] in ("torch", "torchvision", "timm")
          and sys.modules[name] is not None]
assert not loaded, loaded
print("ok")
"""


def test_classify_cities_never_imports_torch(tmp_path, cities_model):
    data = tmp_path / "in.csv"
    data.write_text("lat,lon\n48.85,2.35\n")
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(data), str(cities_model)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
