from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.ensemble import average_prediction_files

splits = ("train", "validation", "test")
average_prediction_files(
    {split: snakemake.input[split] for split in splits},
    {split: snakemake.output[split] for split in splits},
)
