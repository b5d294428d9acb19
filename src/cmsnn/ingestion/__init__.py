"""Ingestion: events from CSV files, ROOT ntuples (uproot) or the embedded toy
generator, into one Parquet file per sample, and the process table.
"""
