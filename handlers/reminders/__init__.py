"""reminders feature: see feature.py for what it adds."""
