"""The notifier as the app wires it over a test channel, and an integration to send as: shared by the
notification tests instead of each building them."""
from __future__ import annotations

from typing import Any

from handoff.channels.whatsapp.outbound import WhatsAppFollowUp
from handoff.channels.whatsapp.window import load_templates
from handoff.core.notifications import Notifier
from handoff.core.operations import load_operations
from handoff.integrations.registry import Integrations
from handoff.settings import REPO_ROOT

OPERATIONS = load_operations(REPO_ROOT / "operations.yml")


def notifier(channel: Any, events: Any = None, **settings: object) -> Notifier:
    """The notifier with these notifications settings (quiet hours off unless given), over the channel's deliverer."""
    wanted = OPERATIONS.notifications.model_copy(update={"quiet_hours": None, **settings})
    operations = OPERATIONS.model_copy(update={"notifications": wanted})
    via = WhatsAppFollowUp(load_templates(wanted.templates), channel.deliverer)
    extra = {} if events is None else {"events": events}
    return Notifier(channel.sessions, operations, via, {"whatsapp": channel.deliverer}, **extra)


async def integration(channel: Any) -> str:
    """A new integration allowed to send notifications: its id."""
    created = await Integrations(channel.sessions, b"k" * 32).create("cli", "shop", ["notifications:send"])
    return str(created.integration["id"])
