"""Scheduled sends: the only place that decides when a daily message goes out."""
