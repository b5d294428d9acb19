"""Figures: style, inputs, classifier, FOM, across-model and binned-likelihood figures,
each module with the entry points of its plotting rules.
"""
