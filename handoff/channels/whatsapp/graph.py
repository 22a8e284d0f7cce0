"""The Graph API client for WhatsApp Cloud API: send, fetch media; and what each error means for a retry.

Meta's answers are read here only: a send is reported as the core's SendResult.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from handoff.core.outbox import SendError, SendResult

# Meta's Graph API with the version this client speaks; WHATSAPP_API_BASE overrides it (tests: loopback).
GRAPH_API_BASE = "https://graph.facebook.com/v21.0"
# Throughput, pair rate limits and Meta-side outages pass; sending again later is safe (nothing was sent).
RETRYABLE_CODES = frozenset({130429, 131056, 131016, 133004, 1, 2, 4, 80007})
REASONS = {
    131047: "More than 24 hours since the customer's last message: only an approved template can be sent.",
    131026: "Message undeliverable: the number may not be on WhatsApp, or the customer has not accepted the "
            "latest terms or uses an old WhatsApp version.",
    131051: "WhatsApp does not support this message type.",
    131049: "Meta did not deliver it to keep the ecosystem healthy (too many marketing messages).",
    131050: "The customer stopped marketing messages from this business.",
    132000: "The template's parameters do not match the approved template.",
    132001: "The template does not exist in this language.",
    131062: "WhatsApp does not accept this message for a business-scoped user id (customers who hide their "
            "number); only their phone number can receive it.",
    190: "The WhatsApp access token expired or is invalid (WHATSAPP_ACCESS_TOKEN).",
}


@dataclass(frozen=True)
class GraphError:
    code: int | None
    title: str
    details: str | None = None
    http_status: int | None = None

    def describe(self) -> str:
        """One line for agents and logs: code, Meta's title, and what it means for us."""
        head = f"({self.code}) {self.title}" if self.code is not None else self.title
        reason = REASONS.get(self.code or -1) or self.details
        return f"{head}: {reason}" if reason and reason != self.title else head


def failed(error: GraphError, retry: bool = False) -> SendResult:
    """The core's SendResult for a Graph error: Meta's code and title, and what it means for us."""
    return SendResult(error=SendError(error.describe(), error.code, error.title), retry=retry)


def should_retry(http_status: int | None, code: int | None) -> bool:
    """Only failures where Meta certainly did not send the message, and that pass with time."""
    if code in RETRYABLE_CODES:
        return True
    return http_status is not None and http_status >= 500 and code not in REASONS


def parse_error(http_status: int, body: Any) -> GraphError:
    """Meta's `{"error": {...}}` body, or whatever came back, as a GraphError."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return GraphError(None, f"HTTP {http_status}", None, http_status)
    code = error.get("code")
    details = error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
    title = re.sub(r"^\(#\d+\)\s*", "", str(error.get("error_user_title") or error.get("message") or ""))
    return GraphError(code if isinstance(code, int) else None, title or f"HTTP {http_status}", details, http_status)


def send_result(http_status: int, body: Any) -> SendResult:
    """Decides from the HTTP answer: the wamid on success, else the error and whether to retry."""
    if 200 <= http_status < 300:
        messages = body.get("messages") if isinstance(body, dict) else None
        if isinstance(messages, list) and messages and isinstance(messages[0], dict) and messages[0].get("id"):
            return SendResult(message_id=str(messages[0]["id"]))
        if isinstance(body, dict) and body.get("success") is True:  # mark-as-read answers {"success": true}
            return SendResult()
        return failed(GraphError(None, "Unexpected answer from the Graph API", str(body)[:200], http_status))
    error = parse_error(http_status, body)
    return failed(error, retry=should_retry(http_status, error.code))


class MediaError(Exception):
    """The media file could not be fetched or did not match its checksum."""


class GraphClient:
    """Sends message bodies and fetches media with the business's access token."""

    def __init__(self, base_url: str | None, phone_number_id: str | None, access_token: str | None, *,
                 timeout: float = 20.0, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = (base_url or GRAPH_API_BASE).rstrip("/")
        self.phone_number_id = phone_number_id
        self.access_token = access_token
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))

    @property
    def configured(self) -> bool:
        return bool(self.phone_number_id and self.access_token)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    async def send(self, body: dict[str, Any]) -> SendResult:
        """POST /{phone-number-id}/messages; a request that may have reached Meta is never reported retryable."""
        if not self.configured:
            return failed(GraphError(None, "WhatsApp is not configured",
                                     "set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN"))
        url = f"{self.base_url}/{self.phone_number_id}/messages"
        try:
            response = await self._client.post(url, json=body, headers=self._headers())
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return failed(GraphError(None, "Graph API unreachable", type(exc).__name__), retry=True)
        except httpx.HTTPError as exc:  # sent, but no answer: resending could deliver it twice
            return failed(GraphError(None, "No answer from the Graph API; not resent to avoid a duplicate",
                                     type(exc).__name__))
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return send_result(response.status_code, payload)

    async def media_info(self, media_id: str) -> dict[str, Any]:
        """GET /{media-id}: a short-lived download URL, the MIME type, sha256 and size."""
        try:
            response = await self._client.get(f"{self.base_url}/{media_id}", headers=self._headers(),
                                              params={"phone_number_id": self.phone_number_id or ""})
            info = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise MediaError(f"media {media_id}: {type(exc).__name__}") from exc
        if response.status_code != 200 or not isinstance(info, dict) or not info.get("url"):
            raise MediaError(f"media {media_id}: {parse_error(response.status_code, info).describe()}")
        return info

    async def download(self, url: str, destination: Path, max_bytes: int) -> tuple[str, int]:
        """Streams the file to `destination` with the token; returns its sha256 (hex) and size."""
        digest, size = hashlib.sha256(), 0
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            async with self._client.stream("GET", url, headers=self._headers()) as response:
                if response.status_code != 200:
                    raise MediaError(f"media download answered HTTP {response.status_code}")
                with open(destination, "wb") as handle:
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise MediaError(f"media larger than {max_bytes} bytes")
                        digest.update(chunk)
                        handle.write(chunk)
        except httpx.HTTPError as exc:
            destination.unlink(missing_ok=True)
            raise MediaError(f"media download failed: {type(exc).__name__}") from exc
        except MediaError:
            destination.unlink(missing_ok=True)
            raise
        return digest.hexdigest(), size

    async def aclose(self) -> None:
        await self._client.aclose()
