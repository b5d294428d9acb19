"""Learning: the Keras backend, the network, its training with checkpoints, prediction,
seed ensembles, permutation importance, ONNX export and the model card.
"""
