"""Slipway's Pulumi program: one environment on aws or kubernetes, chosen by `slipway:platform`."""
