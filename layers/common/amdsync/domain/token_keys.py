"""Whose AdvancedMD token a cache entry holds, and the one key every token cache files it under.

A token belongs to one login environment (the partner login URL: sandbox and production keys and
credentials differ, PROTOCOL §2.4) and to one user of one office key. Keyed by office key alone,
a token fetched for one environment or user would be handed to another; so every token cache
(DynamoDB, local files, in-memory) takes a `TokenOwner` and derives its key with
`token_cache_key`, and nothing else. It lives in `domain` because `amd` and `store` both use it
and may not import each other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TokenOwner:
    login_url: str
    office_key: str
    username: str = field(repr=False)


def token_cache_key(owner: TokenOwner) -> str:
    """`<32 hex digits>`: the login URL, office key and username enter only through the hash,
    so no cache stores any of them (issue 16: the office key lives only in the secret).
    Spellings are not normalised: a variant costs one extra login, never a wrong token.
    """
    identity = "\n".join((owner.login_url, owner.office_key, owner.username))
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]
    return digest
