import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dependency_direction_holds():
    """api → scenarios | tiles → governance → layers → gis_core, and no web imports below api."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_feature_provider_named_in_the_ogc_configuration_exists():
    """pygeoapi loads the provider by its dotted name; a moved or renamed class fails here."""
    import importlib

    from api.ogc import PROVIDER

    module, _, name = PROVIDER.rpartition(".")
    assert getattr(importlib.import_module(module), name).__name__ == name
