"""The phone door: Twilio Voice wire format and TwiML, PBX call events, the voice assistant, calls, missed calls."""
