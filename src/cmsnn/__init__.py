"""Signal-versus-background neural-network classifiers and their figure of merit.

One module per pipeline stage; the Snakemake rule scripts in ``workflow/scripts``
call exactly one function of one module each. Only ``model``, ``training`` and
``prediction`` import TensorFlow/Keras, so every other stage stays light.
"""

__version__ = "0.1.0"
