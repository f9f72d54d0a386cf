"""Backends: turn the neutral IR into a target engine's manifests. They know nothing of the source languages."""
