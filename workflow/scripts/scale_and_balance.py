from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.preprocessing.scaling import scale_and_balance_files

scale_and_balance_files(
    snakemake.input,
    snakemake.output,
    snakemake.output.scaler,
    features=snakemake.params.features,
    scaling=snakemake.wildcards.scaling,
    balancing=snakemake.wildcards.balancing,
    classification=snakemake.params.classification,
    class_names=snakemake.params.class_names,
    negative_weights=snakemake.params.negative_weights,
)
