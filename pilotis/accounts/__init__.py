"""The application database and what lives in it: users, passwords, throttle, audit log,
frozen séances, display-link tokens, migrations. Imports ``pilotis.core`` only.
"""
