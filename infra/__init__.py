"""Slipway's Pulumi program: one environment on aws or kubernetes, chosen by `slipway:platform`."""

# Components keep their child resources as plain attributes set in __init__, never as class-level
# annotations: Pulumi reads a resource class's annotations as output types and would resolve them.
