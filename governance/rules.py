"""Pure rules of governance input that every entry point shares (API, admin, commands): the
patterns a value must match. Nothing here imports Django."""

from __future__ import annotations

import re

# A plain file name: letters, digits, '.', '_', '-' and inner spaces; no path, no leading '.'.
FILENAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9._ -]{0,148}[A-Za-z0-9._-])?$")
