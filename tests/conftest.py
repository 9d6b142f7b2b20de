from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

TOOLS_YAML = """
tools:
  - name: get_weather
    description: Current weather for a city, e.g. Paris.
    parameters:
      type: object
      properties:
        city: {type: string, description: "City name, e.g. Paris"}
        unit: {type: string, enum: [celsius, fahrenheit]}
      required: [city]
  - name: convert_currency
    description: Convert an amount between two currencies.
    parameters:
      type: object
      properties:
        amount: {type: number, minimum: 0}
        from_currency: {type: string}
        to_currency: {type: string}
      required: [amount, from_currency, to_currency]
"""


@pytest.fixture
def write(tmp_path: Path):
    """Write a dedented text file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def tools_file(write) -> Path:
    return write("cat/tools.yaml", TOOLS_YAML)


@pytest.fixture(scope="module")
def bfcl_available():
    """Skip a test module when the BFCL data cannot be had (offline, no cached wheel)."""
    from inftool.catalog.bfcl_data import bfcl_data
    from inftool.errors import DataUnavailableError

    try:
        bfcl_data()
    except DataUnavailableError as error:
        pytest.skip(f"BFCL data unavailable: {error}")
