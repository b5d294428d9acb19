from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.importance import permutation_importance_files

permutation_importance_files(
    model=snakemake.input.model,
    validation=snakemake.input.validation,
    table=snakemake.output.table,
    task=snakemake.params.task,
    repeats=snakemake.params.repeats,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
)
