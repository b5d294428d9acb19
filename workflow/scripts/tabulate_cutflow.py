from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.preprocessing.cutflow import write_cutflow

write_cutflow(
    snakemake.input.ingested,
    {split: snakemake.input[split] for split in ("train", "validation", "test")},
    {split: snakemake.input[f"preselected_{split}"] for split in snakemake.params.preselected},
    snakemake.input.training_set,
    snakemake.output.cutflow,
    shares=snakemake.input.shares,
)
