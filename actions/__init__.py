"""Custom actions of the assistant (Rasa SDK) and the backends they call."""
