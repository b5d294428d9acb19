"""The workflow's own machinery, called from ``common.smk``: the run's paths and models,
the resources each rule asks for, the input files, the code digest of each rule, the
report's command and labels, and the hooks at the start and the end of a run. Standard
library and PyYAML only: it runs at every Snakemake start.
"""
