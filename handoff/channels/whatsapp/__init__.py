"""The WhatsApp Cloud API door: signature, webhook bodies in, Graph bodies out, Graph client, ingest, outbound,
window, media, routes."""

CHANNEL = "whatsapp"  # the channel of WhatsApp's timeline events, outbox rows and cases
