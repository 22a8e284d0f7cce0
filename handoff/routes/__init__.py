"""HTTP routes: thin, they call services and return their results."""
