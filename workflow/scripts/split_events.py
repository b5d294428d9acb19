from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.preprocessing.splitting import split_files

split_files(
    snakemake.input.parquet,
    snakemake.output,
    fractions=snakemake.params.fractions,
    seed=snakemake.params.seed,
    signal_class=snakemake.params.signal_class,
    signal_processes=snakemake.params.signal_processes,
)
