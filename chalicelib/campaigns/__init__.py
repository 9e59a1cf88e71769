"""Campaign messages (SOP / 群发): schedules, event triggers, fan-out through SQS, channels."""
