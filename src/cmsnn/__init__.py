"""Signal-versus-background neural-network classifiers and their figure of merit.

One module per pipeline stage; the Snakemake rule scripts in ``workflow/scripts``
call exactly one function of one module each. Only ``model``, ``training`` and
``prediction`` import TensorFlow/Keras when imported; ``importance`` and ``export`` import
them inside the entry points that need the network; every other stage stays light
(``tests/test_training.py`` checks this list).
"""

__version__ = "0.1.0"
