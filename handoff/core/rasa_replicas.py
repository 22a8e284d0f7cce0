"""Which Rasa replica answers a case, and which failures may send a turn again (pure; the client does the I/O)."""
from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence

import httpx

# Answers that say the turn never reached a working Rasa: a balancer that could not connect (502), Rasa or a
# balancer refusing (503). A 504 is a balancer's read timeout: Rasa may have processed the turn, so it is not resent.
RESENDABLE_STATUSES = frozenset({502, 503})


def replica_urls(urls: Sequence[str]) -> tuple[str, ...]:
    """The configured replicas without trailing slashes, blanks or repeats, in the order given."""
    cleaned = (url.strip().rstrip("/") for url in urls)
    return tuple(dict.fromkeys(url for url in cleaned if url))


def _score(replica: str, key: str) -> int:
    """Rendezvous weight of a replica for a key: the same on every worker and after every restart."""
    return int.from_bytes(hashlib.blake2b(f"{replica}\n{key}".encode(), digest_size=8).digest(), "big")


def replica_order(key: str, replicas: Sequence[str], resting: Collection[str] = ()) -> tuple[str, ...]:
    """A case's replicas in the order to try (rendezvous hashing: adding a replica moves only the cases it wins);
    replicas that failed a moment ago (`resting`) go last, so a dead one does not cost every turn a connect."""
    ranked = sorted(replicas, key=lambda replica: (-_score(replica, key), replica))
    return tuple(sorted(ranked, key=lambda replica: replica in resting))  # stable: the rank holds within each half


def resendable(error: Exception) -> bool:
    """True when the request certainly never reached Rasa (no connection, or none free), so another replica (or
    the same one later) may take the turn; a read or write failure after connecting may mean Rasa processed it."""
    return isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
