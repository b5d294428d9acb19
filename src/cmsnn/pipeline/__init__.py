"""The workflow's own machinery, called from ``common.smk``: the code digest of each
rule, and the report command. Standard library only.
"""
