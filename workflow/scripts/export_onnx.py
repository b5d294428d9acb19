from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.backend import use_keras_backend

# The exported graph is traced with TensorFlow whatever backend trained the model.
use_keras_backend("tensorflow", snakemake.threads)

from cmsnn.learning.export import export_checked_model

export_checked_model(
    snakemake.input.model,
    snakemake.input.scaler,
    snakemake.input.test_events,
    snakemake.input.predictions,
    {"onnx": snakemake.output.onnx, "check": snakemake.output.check},
    classification=snakemake.params.classification,
    class_names=snakemake.params.class_names,
    threads=snakemake.threads,
)
