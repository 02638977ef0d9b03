"""Proactive messages: reminders, check-ins and everything else the bot says unprompted.

    sweep (one APScheduler job per process)  →  outbox table  →  sender (paced per platform)
                                                                   →  Transport (adapter)

- `occurrences` — weekly wall-clock rules in IANA zones, with the daylight-saving policy.
- `quiet` — quiet hours (22:00–07:00 local unless the person chose the time).
- `rules` — creating, pausing, skipping and snoozing reminder rules (rows, not jobs).
- `checkins` — `schedule_checkin()` for other handlers, and what a check-in says.
- `outbox` — `enqueue()`: the one way to send something proactively (issue 7 uses it too).
- `sweep` — turns due rules and check-ins into outbox rows, with the misfire policy, and
  runs the features' sweep hooks (club posts); it imports no handler.
- `sender` — claims outbox rows and delivers them exactly once in the normal path; the
  exact guarantee is in its module docstring.
- `workers` — heartbeats, so a dead worker's claims move to a live one within seconds.
- `shared_pace` — the platform's caps kept for all workers together, in the database.
- `service` — `start_background()`: the APScheduler sweep job and one sender per platform.

This package's __init__ imports nothing, so bot/content can import `scheduler.content`.
"""
