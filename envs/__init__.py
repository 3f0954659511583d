"""herdemos' own goal-conditioned envs, registered with Gymnasium when ``herdemos`` is imported."""
