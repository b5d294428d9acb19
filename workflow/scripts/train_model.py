from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.backend import use_keras_backend

use_keras_backend(snakemake.params.backend, snakemake.threads)

from cmsnn.learning.training import train_files

train_files(
    snakemake.input.train,
    snakemake.input.validation,
    snakemake.output.model,
    snakemake.output.history,
    snakemake.output.facts,
    features=snakemake.params.features,
    settings=snakemake.params.settings,
    classification=snakemake.params.classification,
    class_names=snakemake.params.class_names,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    # from the config, not a param: how often to save changes no result, reruns nothing
    checkpoint_seconds=snakemake.config["training"]["checkpoint_seconds"],
    progress_seconds=snakemake.config["training"]["progress_seconds"],
    name=snakemake.wildcards.point + "/seed-" + snakemake.wildcards.seed,
)
