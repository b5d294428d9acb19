"""Preprocessing: the split into train, validation and test with the measured shares,
the preselection, scaling and class balancing, and the cut flow.
"""
