"""The engine without Dash or Flask: YAML, schema, loader, registry, queries, data, access.

Imports only ``pilotis.core`` (tests/test_architecture.py imports it alone in a fresh interpreter).
"""
