from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.prediction import predict_files
from cmsnn.vocabulary import SPLITS, at_mass_point_files

predict_files(
    model=snakemake.input.model,
    events={split: snakemake.input[split] for split in SPLITS},
    predictions={split: snakemake.output[split] for split in SPLITS},
    predictions_csv={split: snakemake.output[f"{split}_csv"] for split in SPLITS},
    task=snakemake.params.task,
    threads=snakemake.threads,
    at_mass_points=at_mass_point_files(dict(snakemake.output.items())),
    signal_masses=snakemake.params.get("signal_masses", {}),
    headline=snakemake.params.get("headline", []),
)
