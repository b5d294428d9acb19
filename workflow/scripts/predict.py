from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.backend import use_keras_backend

use_keras_backend(snakemake.params.backend, snakemake.threads)

from cmsnn.learning.prediction import predict_files

splits = ("train", "validation", "test")
predict_files(
    snakemake.input.model,
    {split: snakemake.input[split] for split in splits},
    {split: snakemake.output[split] for split in splits},
    features=snakemake.params.features,
    classification=snakemake.params.classification,
    class_names=snakemake.params.class_names,
    threads=snakemake.threads,
)
