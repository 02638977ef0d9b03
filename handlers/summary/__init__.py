"""The weekly summary: a person's week of running, core work and soreness checks, opt-in."""
