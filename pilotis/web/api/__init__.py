"""The JSON API ``/api/v1``: bearer tokens only, the same access decision and filters as pages.

``errors`` (JSON errors with stable codes), ``auth`` (bearer tokens, no session cookie),
``params`` (query-string parsing), ``output`` (JSON / CSV bodies), ``datasets`` (which datasets a
caller sees, the dataset query), ``views`` (the blueprint), ``openapi`` and ``docs_page`` (the
served OpenAPI 3.1 document and its offline HTML rendering). ``views.install`` wires it all.
"""
