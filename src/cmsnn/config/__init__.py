"""The config: its schema's defaults and checks, the grid of trained settings, and the
checks the schema cannot express. Standard library and PyYAML only: ``common.smk``
imports it at every start.
"""
