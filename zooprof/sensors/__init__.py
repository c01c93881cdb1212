"""Readers for on-device sensor logs (Jetson tegrastats)."""
