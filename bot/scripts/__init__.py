"""Commands of the assistant project run with the bot environment (`python -m bot.scripts.retrain`)."""
