from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.ensemble import average_seed_predictions_files
from cmsnn.vocabulary import SPLITS, at_mass_point_files

average_seed_predictions_files(
    members={split: snakemake.input[split] for split in SPLITS},
    ensemble={split: snakemake.output[split] for split in SPLITS},
    ensemble_csv={split: snakemake.output[f"{split}_csv"] for split in SPLITS},
    members_at_mass_points=at_mass_point_files(dict(snakemake.input.items())),
    at_mass_points=at_mass_point_files(dict(snakemake.output.items())),
)
