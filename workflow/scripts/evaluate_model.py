from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.statistics.evaluation import evaluate_model_files
from cmsnn.vocabulary import SPLITS, at_mass_point_files

evaluate_model_files(
    predictions={split: snakemake.input[split] for split in SPLITS},
    shares=snakemake.input.shares,
    scan=snakemake.output.scan,
    evaluation=snakemake.output.evaluation,
    by_signal=snakemake.output.by_signal,
    ks_table=snakemake.output.ks_table,
    fom_options=snakemake.params.fom,
    task=snakemake.params.task,
    ks_p_value_threshold=snakemake.params.ks_p_value_threshold,
    at_mass_points=at_mass_point_files(dict(snakemake.input.items())),
)
