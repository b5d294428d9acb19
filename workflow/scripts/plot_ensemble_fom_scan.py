from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.fom import plot_ensemble_fom_scan_files

plot_ensemble_fom_scan_files(
    scan=snakemake.input.scan,
    evaluation=snakemake.input.evaluation,
    seed_scans=snakemake.input.seed_scans,
    seed_evaluations=snakemake.input.seed_evaluations,
    seeds=snakemake.params.seeds,
    figures=dict(snakemake.output.items()),
    class_names=snakemake.params.class_names,
    label=snakemake.params.label,
    min_background_events=snakemake.params.min_background_events,
)
