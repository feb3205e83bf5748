"""What makes a classify-* run safe to schedule: lock, output checks, resume, signals,
summary."""
