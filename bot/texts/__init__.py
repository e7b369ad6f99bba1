"""The texts users read: their schema (schema.py), and the catalog that loads and renders
them (catalog.py)."""
