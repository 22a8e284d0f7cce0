"""Rasa assistant project files (training data, tests, channel) — a package so the channel imports."""
