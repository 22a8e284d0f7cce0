"""The front door service: every customer channel, one timeline per customer, the bot and the people."""
