"""The shared agent inbox: routing I/O, agent actions, read models, the live namespace and the web app."""
