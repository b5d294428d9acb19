from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.preprocessing.scaling import scale_and_balance_files
from cmsnn.vocabulary import SPLITS

scale_and_balance_files(
    events={split: snakemake.input[split] for split in SPLITS},
    prepared={split: snakemake.output[split] for split in SPLITS},
    scaler=snakemake.output.scaler,
    task=snakemake.params.task,
    scaling=snakemake.wildcards.scaling,
    balancing=snakemake.wildcards.balancing,
    negative_weights=snakemake.params.negative_weights,
    signal_masses=snakemake.params.get("signal_masses", {}),
    held_out=snakemake.params.get("held_out_mass_points", []),
    trained_points=snakemake.params.get("trained_points"),
)
