"""Signal-versus-background neural-network classifiers and their figure of merit.

One subpackage per family of pipeline stages, in the order the data flows:

- ``ingestion``: CSV files, ROOT ntuples and the embedded toy data into Parquet, and
  the process table;
- ``preprocessing``: the split with its measured shares, preselection, scaling,
  balancing and the cut flow;
- ``learning``: the network, its training, prediction, seed ensembles, permutation
  importance, ONNX export and the model card;
- ``statistics``: significance, yields, the FOM scan, the cut choice and the
  evaluation of a model;
- ``summary``: the tables across models and the verdict;
- ``figures``: every figure, each module with its plotting rules' entry points;
- ``config`` and ``pipeline``: the workflow's own machinery (schema, checks, grid; code
  digest, paths, resources, report), standard library and PyYAML only.

Beside them: ``vocabulary`` (the names every stage shares), ``files`` and
``dataframes`` (atomic writers and readers) and ``logs``. A rule script calls exactly
one entry point. Only ``learning.model``, ``learning.training``, ``learning.epochs``,
``learning.callbacks`` and ``learning.checkpoints`` import TensorFlow/Keras when
imported; ``learning.importance`` and ``learning.export`` import them inside the entry
points that need the network (``tests/test_training.py`` checks this list).
"""

__version__ = "0.1.0"
