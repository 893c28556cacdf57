"""Slipway's reference API: a video-analysis service (projects, videos, test sessions, detections)."""
