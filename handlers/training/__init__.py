"""The training log: runs, load and today's advice."""
