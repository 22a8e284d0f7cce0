"""Health, pages and the typed FastAPI dependencies shared by every router."""
