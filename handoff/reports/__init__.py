"""Supervisor and designer reports: KPIs, transition review, audit exports, the NLU review loop."""
