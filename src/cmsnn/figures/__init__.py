"""Figures: style, inputs, classifier and FOM figures, each module with the entry points
of its plotting rules.
"""
