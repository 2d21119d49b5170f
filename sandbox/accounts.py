"""ATOL accounts (login, password, group, INN, protocol versions) and their tokens."""

import secrets
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Account:
    login: str
    password: str
    group: str
    inn: str
    versions: tuple = ("v5",)
    payment_address: str = ""

    def public(self):
        """What the admin endpoint shows: never the password."""
        return {
            "login": self.login,
            "group": self.group,
            "inn": self.inn,
            "versions": list(self.versions),
            "payment_address": self.payment_address,
        }


# The public test credentials that ATOL's own test environment uses (docs/architecture.rst, "Vendors").
DEFAULT_ACCOUNTS = (
    Account(
        "v4-online-atol-ru",
        "iGFFuihss",
        "v4-online-atol-ru_4179",
        "5544332219",
        ("v4",),
        "https://v4.online.atol.ru",
    ),
    Account(
        "v5-online-atol-ru",
        "zUr0OxfI",
        "v5-online-atol-ru_5179",
        "5544332219",
        ("v5",),
        "https://v5.online.atol.ru",
    ),
)


@dataclass
class Token:
    value: str
    login: str
    issued_at: float
    expires_at: float
    revoked: bool = field(default=False)


class TokenStore:
    """Tokens valid ``ttl`` seconds from first issue.

    A repeated getToken during the lifetime returns the already issued token (one of the two
    behaviours §6.1 allows), so its lifetime still counts from the first issue. Expired tokens
    are kept so that they answer 11 (ExpiredToken) rather than 10 (MissingToken).
    """

    def __init__(self, ttl, clock=time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self.tokens = {}
        self.current = {}

    def issue(self, login):
        now = self.clock()
        token = self.current.get(login)
        if token and not token.revoked and token.expires_at > now:
            return token
        token = Token(secrets.token_hex(24), login, now, now + self.ttl)
        self.tokens[token.value] = token
        self.current[login] = token
        return token

    def lookup(self, value):
        """``(token, None)`` when valid, else ``(token or None, error code 10 | 11)``."""
        token = self.tokens.get(value or "")
        if token is None:
            return None, 10
        if token.revoked or token.expires_at <= self.clock():
            return token, 11
        return token, None

    def expire_all(self):
        for token in self.tokens.values():
            token.revoked = True
        return len(self.tokens)

    def clear(self):
        self.tokens.clear()
        self.current.clear()
