from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.backend import use_keras_backend

use_keras_backend(snakemake.params.backend, snakemake.threads)

from cmsnn.learning.training import train_model_files

train_model_files(
    train=snakemake.input.train,
    validation=snakemake.input.validation,
    scaler=snakemake.input.scaler,
    validation_events=snakemake.input.validation_events,
    model=snakemake.output.model,
    onnx=snakemake.output.onnx,
    network=snakemake.output.network,
    check=snakemake.output.check,
    history=snakemake.output.history,
    facts=snakemake.output.facts,
    task=snakemake.params.task,
    settings=snakemake.params.settings,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    # from the config, not a param: how often to save changes no result, reruns nothing
    checkpoint_seconds=snakemake.config["training"]["checkpoint_seconds"],
    progress_seconds=snakemake.config["training"]["progress_seconds"],
    # a compared network's rule names it; a grid point's model is its folder's name
    name=snakemake.params.get("name")
    or f"{snakemake.wildcards.point}/seed-{snakemake.wildcards.seed}",
)
