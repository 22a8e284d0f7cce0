"""The phone door: Twilio Voice wire format and TwiML, PBX call events, the voice assistant, calls, missed calls."""

CHANNEL = "voice"  # the channel of every call's timeline events and of cases opened by a call
