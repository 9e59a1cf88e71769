"""Data portability: exports and imports (CSV / JSON Lines) written and read by a queue worker."""
