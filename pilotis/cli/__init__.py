"""``python -m pilotis …``: the commands (check, schema, docs, users, audit, db, display-link).

The top floor: may import anything, and registers the built-in types as ``app.py`` does.
"""
