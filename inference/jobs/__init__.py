"""What makes a classify-* run safe to schedule: lock, resume, signals, summary, walking."""
