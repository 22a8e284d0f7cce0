"""All settings in one place, read from the environment so secrets never live in the repository."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Environment-driven settings; every default is safe for the embedded single-machine mode."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    port: int = 8000
    database_url: str = f"sqlite+aiosqlite:///{REPO_ROOT / 'var' / 'frontdoor.sqlite3'}"
    # Connections each worker keeps open to a server database (PostgreSQL), and as many again in bursts.
    database_pool_size: int = Field(20, ge=1)
    redis_url: str | None = None
    rasa_url: str = "http://127.0.0.1:5005"
    # Several Rasa replicas sharing one tracker store and one lock store, comma-separated; set this or RASA_URL.
    rasa_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rasa_token: str | None = None
    action_server_url: str = "http://127.0.0.1:5055"
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str | None = None
    operations_file: Path = REPO_ROOT / "operations.yml"

    # Channels and providers (used by later channel issues; read here so there is one settings object).
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_access_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_base: str | None = None  # unset: Meta's Graph API at the version the WhatsApp channel speaks
    whatsapp_send_timeout_seconds: float = 20.0
    outbox_max_attempts: int = 6
    outbox_backoff_seconds: float = 2.0
    outbox_backoff_max_seconds: float = 300.0
    # Outgoing webhooks to integrations (handoff/integrations): retried longer than provider sends, a receiver's
    # outage may last hours; each integration's deliveries wait in order behind the one being retried.
    webhook_max_attempts: int = Field(15, ge=1)
    webhook_backoff_seconds: float = Field(2.0, gt=0)
    webhook_backoff_max_seconds: float = Field(600.0, gt=0)
    webhook_timeout_seconds: float = Field(10.0, gt=0)
    media_dir: Path = REPO_ROOT / "var" / "media"
    media_max_bytes: int = 100 * 1024 * 1024
    twilio_auth_token: str | None = None
    twilio_account_sid: str | None = None  # with TWILIO_CALLER_ID: verification codes read in a call
    twilio_caller_id: str | None = None  # E.164, a number of the account
    twilio_api_base: str = "https://api.twilio.com"  # tests: a stand-in on loopback
    call_events_secret: str | None = None

    webchat_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webchat_max_message_chars: int = 2000
    webchat_rate_limit_messages: int = Field(20, ge=1)  # per session and per connection, per window
    webchat_rate_limit_new_sessions: int = Field(3, ge=1)  # new session ids per connection, per window
    webchat_rate_limit_address_factor: int = Field(10, ge=1)  # per client address: this many times both
    webchat_rate_limit_window_seconds: float = Field(60.0, gt=0)
    # A site's signed visitor identity (HS256 JWT); unset: every identity_token is refused (invalid_identity).
    webchat_identity_secret: str | None = Field(None, min_length=32)  # 256 bits, as RFC 7518 asks of HS256 keys
    webchat_identity_max_hours: float = Field(24.0, gt=0)  # a token's exp at most this far ahead

    inbox_session_hours: float = 12.0  # an agent's login lasts this long (logout revokes it earlier)
    inbox_login_attempts: int = Field(10, ge=1)  # at once per account and address (10 × per address), per window
    inbox_login_window_seconds: float = Field(900.0, gt=0)
    inbox_login_delay_seconds: float = Field(1.0, gt=0)  # then waits of 1, 2, 4 … seconds,
    inbox_login_max_delay_seconds: float = Field(300.0, gt=0)  # at most this
    inbox_abandon_after_hours: float = 24.0  # a waiting case whose customer is silent this long is abandoned
    commitments_due_check_seconds: float = Field(30.0, gt=0)  # how often due commitments are looked for and alerted
    notification_release_seconds: float = Field(30.0, gt=0)  # how often held and scheduled notifications are sent
    # A website chat left without an answer this long continues once on the customer's verified WhatsApp; 0: off
    abandoned_chat_recovery_seconds: float = Field(600.0, ge=0)

    bot_timeout_seconds: float = 10.0
    bot_retries: int = 1
    bot_retry_backoff_seconds: float = 0.3
    nlu_harvest_interval_seconds: float = 120.0  # reads Rasa's trackers for unsure predictions; 0: off
    # Several workers share background work (core/claims.py): a worker holds a stored webhook, a pending turn or
    # the harvest this long; if it dies, another takes the item once this lapses. Longer than the slowest turn.
    work_lease_seconds: float = Field(120.0, gt=0)
    # Rasa's tracker store (endpoints.yml), where an erasure deletes the customer's conversations: any SQLAlchemy
    # URL, else the SQLite file RASA_TRACKER_DB names (what `make run` gives Rasa); neither: trackers are kept
    rasa_tracker_db_url: str | None = None
    rasa_tracker_db: str | None = None
    # Retention (operations.yml `retention:`) and signed audit checkpoints (README: Signed audit checkpoints)
    retention_interval_seconds: float = Field(3600.0, ge=0)  # how often old content is erased; 0: off
    audit_checkpoint_minutes: float = Field(15.0, ge=0)  # how often moved chains' heads are signed; 0: off
    audit_signing_key: str | None = None  # Ed25519 private key: base64 of the raw 32 bytes, or PEM (PKCS#8)

    # GET /metrics for Prometheus (handoff/web/metrics.py): Bearer this token; unset, the endpoint answers 404.
    metrics_token: str | None = Field(None, min_length=16)

    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("webchat_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a comma-separated string, as environment variables are."""
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("rasa_urls", mode="before")
    @classmethod
    def _split_rasa_urls(cls, value: object) -> object:
        """Accept a comma-separated string, as environment variables are."""
        if isinstance(value, str):
            return [url.strip().rstrip("/") for url in value.split(",") if url.strip()]
        return value

    @property
    def rasa_replicas(self) -> list[str]:
        """The Rasa servers turns go to: RASA_URLS if set, else RASA_URL alone; both set is a start-up error (not a
        validator's: pydantic's message would print every setting, secrets included)."""
        if self.rasa_urls and "rasa_url" in self.model_fields_set:
            raise ValueError("set RASA_URL (one Rasa) or RASA_URLS (several replicas), not both")
        return list(self.rasa_urls) or [self.rasa_url.rstrip("/")]

    @property
    def allowed_origins(self) -> list[str]:
        """The configured origins plus the service's own, so the demo page always works."""
        own = {self.public_base_url.rstrip("/"), f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}"}
        return sorted(set(self.webchat_allowed_origins) | own)

    @property
    def is_sqlite(self) -> bool:
        """SQLite needs WAL and a local directory; PostgreSQL needs neither."""
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """One Settings per process; tests build their own instead."""
    return Settings()
