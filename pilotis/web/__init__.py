"""Flask requests and Dash wiring: access at the edge, sign-in, CSRF, admin and catalogue pages,
séance views, display links. Imports ``pilotis.core``, ``pilotis.ui`` and ``pilotis.accounts``.
"""
