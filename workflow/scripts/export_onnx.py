from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.backend import use_keras_backend

# The exported graph is traced with TensorFlow whatever backend trained the model.
use_keras_backend("tensorflow", snakemake.threads)

from cmsnn.learning.export import export_onnx_files

export_onnx_files(
    model=snakemake.input.model,
    scaler=snakemake.input.scaler,
    test_events=snakemake.input.test_events,
    predictions=snakemake.input.predictions,
    onnx=snakemake.output.onnx,
    check=snakemake.output.check,
    task=snakemake.params.task,
    threads=snakemake.threads,
)
