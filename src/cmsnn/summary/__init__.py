"""Summary: the tables across models (``fom_summary.csv`` and its companions), their
columns, and the verdict at the end of a run.
"""
