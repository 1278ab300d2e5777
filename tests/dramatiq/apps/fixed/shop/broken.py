"""An app that fails to import, as a typo would make it."""

from __future__ import annotations

import shop.no_such_module  # noqa: F401
