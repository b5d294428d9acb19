from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.binned import plot_limits_files

plot_limits_files(
    by_signal_by_point=snakemake.input.by_signal_by_point,
    figures=dict(snakemake.output.items()),
    label=snakemake.params.label,
)
