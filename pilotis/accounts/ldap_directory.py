"""Sign-in against an LDAP or Active Directory directory: the password is checked by a ``bind`` as
the user, then the user's name and groups are read (with ldap3, pure Python).

Two ways to find the user's DN (`config/sso.yaml`, ``ldap:``): a template (``user_dn:
uid={username},ou=people,…``, or ``{username}@domaine.local`` for Active Directory), or a search
(``search_base`` + ``search_filter``, with a service account or anonymously). The user name is
escaped for the DN or the filter it goes into: no LDAP injection. An empty password is refused
before anything is sent (an LDAP server accepts a bind without password as an anonymous one).

:func:`present_accounts` answers the referents' check (:mod:`pilotis.accounts.ldap_referents`):
which accounts the directory still holds, enabled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pilotis.core.settings import env_secret
from pilotis.core.sso_config import LdapDirectory

if TYPE_CHECKING:
    from ldap3 import Connection

# ldap3 is imported by the functions that talk to the directory (0.12 s of every worker's
# start-up otherwise, for a sign-in method most installations do not configure).


class DirectoryUnavailable(Exception):
    """The directory could not be reached or answered an error (not a wrong password)."""


@dataclass(frozen=True)
class DirectoryUser:
    """Who the directory says signed in."""

    username: str
    dn: str
    display_name: str
    groups: tuple[str, ...]


def _seconds(config: LdapDirectory) -> int:
    return max(1, math.ceil(config.timeout_seconds))  # ldap3 packs them as socket options: integers


def _connection(config: LdapDirectory, user: str | None, password: str | None) -> Connection:
    from ldap3 import NONE, Connection, Server
    from ldap3.core.exceptions import LDAPException

    server = Server(config.url, connect_timeout=_seconds(config), get_info=NONE)
    connection = Connection(server, user=user, password=password, receive_timeout=_seconds(config))
    try:
        connection.open()
        if config.start_tls:
            connection.start_tls()
    except LDAPException:
        if connection.socket is not None:  # ldap3 keeps the socket of a failed connect open
            connection.socket.close()
        connection.unbind()
        raise
    return connection


def _find_dn(config: LdapDirectory, username: str) -> str | None:
    from ldap3 import SUBTREE
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import escape_rdn

    if config.user_dn:
        return config.user_dn.format(username=escape_rdn(username))
    service = _connection(
        config, config.bind_dn or None, env_secret(config.bind_password_env, "") if config.bind_password_env else None
    )
    try:
        if not service.bind():
            raise DirectoryUnavailable("compte de service refusé par l'annuaire")
        search = config.search_filter.format(username=escape_filter_chars(username))
        service.search(config.search_base, search, SUBTREE, attributes=[], size_limit=2)
        entries = [e for e in service.response or [] if e.get("type") == "searchResEntry"]
        return str(entries[0]["dn"]) if len(entries) == 1 else None
    finally:
        service.unbind()


def authenticate(config: LdapDirectory, username: str, password: str) -> DirectoryUser | None:
    """The directory's user when ``password`` is right, None when it is wrong or the user unknown.

    Raises :class:`DirectoryUnavailable` when the directory cannot answer.
    """
    from ldap3.core.exceptions import LDAPException

    if not username or not password:
        return None
    try:
        dn = _find_dn(config, username)
        if dn is None:
            return None
        connection = _connection(config, dn, password)
        try:
            if not connection.bind():
                if connection.result and connection.result.get("result") == 49:  # invalidCredentials
                    return None
                raise DirectoryUnavailable(str(connection.result.get("description") if connection.result else ""))
            return _read_user(config, connection, username, dn)
        finally:
            connection.unbind()
    except LDAPException as exc:
        raise DirectoryUnavailable(type(exc).__name__) from exc


def _read_user(config: LdapDirectory, connection: Connection, username: str, dn: str) -> DirectoryUser:
    from ldap3 import BASE, SUBTREE
    from ldap3.utils.conv import escape_filter_chars

    name_attr = config.name_attribute
    connection.search(dn, "(objectClass=*)", BASE, attributes=[name_attr, "memberOf"])
    entry = next((e for e in connection.response or [] if e.get("type") == "searchResEntry"), None)
    attributes = entry.get("attributes", {}) if entry else {}
    real_dn = str(entry["dn"]) if entry else dn
    name = attributes.get(name_attr) or username
    groups = [str(g) for g in attributes.get("memberOf") or []]
    if config.group_base:
        search = config.group_filter.format(dn=escape_filter_chars(real_dn), username=escape_filter_chars(username))
        connection.search(config.group_base, search, SUBTREE, attributes=[])
        groups += [str(e["dn"]) for e in connection.response or [] if e.get("type") == "searchResEntry"]
    display = str(name[0] if isinstance(name, list) and name else name)
    return DirectoryUser(username=username, dn=real_dn, display_name=display, groups=tuple(dict.fromkeys(groups)))


AD_DISABLED = 0x2
"""``userAccountControl`` bit of a disabled Active Directory account (ACCOUNTDISABLE)."""


def present_accounts(config: LdapDirectory, usernames: set[str]) -> set[str]:
    """Of ``usernames``, those the directory holds and has not disabled (Active Directory:
    ``userAccountControl`` without ACCOUNTDISABLE). One service connection (``bind_dn``, or
    anonymous), one search per name, escaped like a sign-in. Raises :class:`DirectoryUnavailable`
    when the directory cannot answer (never read as « everybody left »)."""
    from ldap3.core.exceptions import LDAPException

    if not usernames:
        return set()
    password = env_secret(config.bind_password_env, "") if config.bind_password_env else None
    try:
        service = _connection(config, config.bind_dn or None, password)
        try:
            if not service.bind():
                raise DirectoryUnavailable("compte de service refusé par l'annuaire")
            return {name for name in sorted(usernames) if _enabled_entry(config, service, name)}
        finally:
            service.unbind()
    except LDAPException as exc:
        raise DirectoryUnavailable(type(exc).__name__) from exc


def _enabled_entry(config: LdapDirectory, connection: Connection, username: str) -> bool:
    from ldap3 import BASE, SUBTREE
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import escape_rdn

    if config.user_dn:
        base, search, scope = config.user_dn.format(username=escape_rdn(username)), "(objectClass=*)", BASE
    else:
        base, scope = config.search_base, SUBTREE
        search = config.search_filter.format(username=escape_filter_chars(username))
    connection.search(base, search, scope, attributes=["userAccountControl"], size_limit=2)
    code = (connection.result or {}).get("result", 0)
    if code not in (0, 32):  # 32: noSuchObject (a DN template naming nobody)
        raise DirectoryUnavailable(str((connection.result or {}).get("description", code)))
    entries = [e for e in connection.response or [] if e.get("type") == "searchResEntry"]
    if len(entries) != 1:
        return False
    flags = entries[0].get("attributes", {}).get("userAccountControl")
    return not (isinstance(flags, int) and flags & AD_DISABLED)
