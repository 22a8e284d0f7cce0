"""The data model of DESIGN.md: one customer, one conversation, many doors.

One module per concern; every model is imported here, so `from handoff.store.models import X` works and
`Base.metadata` (alembic's target, migrations/env.py) holds every table.
"""
from handoff.store.models.agents import Agent, AgentSession, AuditEntry, PresenceChange
from handoff.store.models.base import Base, BigIntId, UTCDateTime, new_id, utcnow
from handoff.store.models.callbacks import Callback
from handoff.store.models.calls import Call
from handoff.store.models.checkpoints import AuditCheckpoint
from handoff.store.models.commitments import Commitment
from handoff.store.models.cases import Case, Handoff, TimelineEvent
from handoff.store.models.customers import Customer, CustomerKey, Identity, VerificationCode
from handoff.store.models.delivery import InboundWebhook, Outbox, PendingTurn, RefusedWebhookItem
from handoff.store.models.designers import NluHarvestMark, NluSample
from handoff.store.models.integrations import Integration
from handoff.store.models.merges import Merge, MergeSuggestion
from handoff.store.models.notifications import Notification
from handoff.store.models.qa import QaReview
from handoff.store.models.reads import CaseRead

__all__ = [
    "Agent", "AgentSession", "AuditCheckpoint", "AuditEntry", "Base", "BigIntId", "Call", "Callback", "Case", "CaseRead", "Commitment", "Customer",
    "CustomerKey", "Handoff",
    "Integration",
    "Identity", "InboundWebhook", "Merge", "MergeSuggestion", "NluHarvestMark", "Notification", "NluSample", "Outbox", "PendingTurn",
    "PresenceChange", "QaReview", "RefusedWebhookItem", "TimelineEvent", "UTCDateTime", "VerificationCode", "new_id",
    "utcnow",
]
