from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.ensemble import average_seed_predictions_files
from cmsnn.vocabulary import SPLITS

average_seed_predictions_files(
    members={split: snakemake.input[split] for split in SPLITS},
    ensemble={split: snakemake.output[split] for split in SPLITS},
    ensemble_csv={split: snakemake.output[f"{split}_csv"] for split in SPLITS},
    members_at_mass_points={
        split: snakemake.input[f"at_mass_points_{split}"]
        for split in SPLITS
        if f"at_mass_points_{split}" in snakemake.input.keys()
    },
    at_mass_points={
        split: snakemake.output[f"at_mass_points_{split}"]
        for split in SPLITS
        if f"at_mass_points_{split}" in snakemake.output.keys()
    },
)
