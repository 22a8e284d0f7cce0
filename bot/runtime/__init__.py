"""Changes to how Rasa 3.6 runs a turn (not what it answers), installed when Rasa imports the REST channel."""
