"""The tagged content library (素材库)."""
