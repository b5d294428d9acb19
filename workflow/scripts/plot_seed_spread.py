from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.fom import plot_seed_spread_files

plot_seed_spread_files(snakemake.input.summary, snakemake.output, snakemake.params.label)
