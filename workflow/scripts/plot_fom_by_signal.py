from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.fom import plot_fom_by_signal_files

plot_fom_by_signal_files(snakemake.input.by_signal, snakemake.output, snakemake.params.label)
