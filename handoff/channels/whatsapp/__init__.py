"""The WhatsApp Cloud API door: wire format, Graph client, ingest, outbound, window, media, routes."""
