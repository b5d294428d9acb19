from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.across_models import plot_fom_by_signal_files

plot_fom_by_signal_files(
    by_signal=snakemake.input.by_signal,
    figures=dict(snakemake.output.items()),
    label=snakemake.params.label,
)
