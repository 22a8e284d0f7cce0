"""What the Socket.IO server sends is strict JSON: a NaN left in a stored row reaches a browser as null, because
JSON.parse refuses the `NaN` token (the page would stop updating)."""
from __future__ import annotations

import json

import socketio

from handoff.app import create_socketio
from handoff.settings import Settings


def refuse(token: str) -> object:
    raise ValueError(f"{token} sent to a browser")


def test_pushes_with_nan_or_infinity_go_out_as_strict_json() -> None:
    create_socketio(Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="k" * 32))
    packet = socketio.packet.Packet(socketio.packet.EVENT, data=["history", {
        "messages": [{"text": "hola", "payload": {"confidence": float("nan"), "range": [float("-inf"), 1.5]}}]}])
    encoded = packet.encode()
    event = json.loads(encoded[1:], parse_constant=refuse)
    assert event == ["history", {"messages": [{"text": "hola", "payload": {"confidence": None,
                                                                           "range": [None, 1.5]}}]}]
    assert socketio.packet.Packet(encoded_packet='2["m",{"n":12}]').data == ["m", {"n": 12}]  # reading unchanged
