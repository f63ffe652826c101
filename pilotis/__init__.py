"""Pilotis, the engine: five floors, each importing only the floors under it (docs/ARCHITECTURE.md).

core (no Dash, no Flask) <- ui (Dash components), accounts (database) <- web (requests) <- cli;
checked by tests/test_architecture.py.
"""
