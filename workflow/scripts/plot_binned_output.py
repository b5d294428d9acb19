from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.binned import plot_binned_output_files

plot_binned_output_files(
    histograms=snakemake.input.histograms,
    binning=snakemake.input.binning,
    figures=dict(snakemake.output.items()),
    class_names=snakemake.params.class_names,
    signal_processes=snakemake.params.signal_processes,
    label=snakemake.params.label,
)
