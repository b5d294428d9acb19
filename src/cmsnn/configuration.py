"""Reading the user's config the way a physicist writes it."""

from __future__ import annotations

import re

# YAML 1.2 (and every physicist) reads 1e-3 as a number; PyYAML follows YAML 1.1,
# where a float needs a dot (1.0e-3), and returns the text "1e-3" instead.
_SCIENTIFIC = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def scientific_numbers(value):
    """``value`` with every string in scientific notation (``"1e-3"``) turned into a float."""
    if isinstance(value, dict):
        return {key: scientific_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scientific_numbers(item) for item in value]
    if isinstance(value, str) and _SCIENTIFIC.fullmatch(value.strip()):
        return float(value)
    return value
