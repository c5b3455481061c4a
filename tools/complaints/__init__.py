"""A Git-native case tracker for an organisation's efficiency-complaint mechanism (效能投诉机制)."""
from __future__ import annotations

__version__ = "0.1.0"
