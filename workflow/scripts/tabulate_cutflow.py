from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.preprocessing.cutflow import tabulate_cutflow_files
from cmsnn.vocabulary import SPLITS

tabulate_cutflow_files(
    ingested=snakemake.input.ingested,
    splits={split: snakemake.input[split] for split in SPLITS},
    preselected={
        split: snakemake.input[f"preselected_{split}"] for split in snakemake.params.preselected
    },
    training_set=snakemake.input.training_set,
    cutflow=snakemake.output.cutflow,
    shares=snakemake.input.shares,
)
