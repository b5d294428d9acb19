from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.backend import use_keras_backend

use_keras_backend(snakemake.params.backend, snakemake.threads)

from cmsnn.learning.importance import importance_files

importance_files(
    snakemake.input.model,
    snakemake.input.validation,
    snakemake.output.table,
    features=snakemake.params.features,
    classification=snakemake.params.classification,
    class_names=snakemake.params.class_names,
    repeats=snakemake.params.repeats,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
)
