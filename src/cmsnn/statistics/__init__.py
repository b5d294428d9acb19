"""Statistics: the significance, expected yields, the FOM scan and the cut choice,
effective event counts, the KS test, correlations, and the evaluation of one model.
"""
