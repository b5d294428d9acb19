"""Statistics: the significance, expected yields, the FOM scan and the cut choice,
effective event counts, the KS test, correlations, the evaluation of one model, and the
binned likelihood of the network output (histograms, binning, the pyhf model with its
expected significance and limits, the Combine datacard).
"""
