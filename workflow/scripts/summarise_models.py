from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.summary.tables import summarise_models_files

summarise_models_files(
    models=snakemake.params.models,
    points=snakemake.params.points,
    facts=snakemake.input.facts,
    evaluations=snakemake.input.evaluation,
    by_signal=snakemake.input.by_signal,
    binned=snakemake.input.binned,
    binned_by_signal=snakemake.input.binned_by_signal,
    ensemble_points=snakemake.params.ensemble_points,
    ensemble_evaluations=snakemake.input.ensemble_evaluation,
    ensemble_by_signal=snakemake.input.ensemble_by_signal,
    ensemble_binned=snakemake.input.ensemble_binned,
    ensemble_binned_by_signal=snakemake.input.ensemble_binned_by_signal,
    summary=snakemake.output.summary,
    headline=snakemake.output.headline,
    by_point=snakemake.output.by_point,
    by_signal_table=snakemake.output.by_signal,
    by_signal_by_point=snakemake.output.by_signal_by_point,
)
