"""Scheduled jobs and the outbox dispatcher (delivery of alerts and notices)."""
