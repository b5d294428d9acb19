from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.fom import plot_fom_scan_files

plot_fom_scan_files(
    snakemake.input,
    snakemake.output,
    snakemake.params.class_names,
    snakemake.params.label,
    snakemake.params.seeds,
    min_background_events=snakemake.params.min_background_events,
)
