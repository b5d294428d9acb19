from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.statistics.evaluation import evaluate_files

evaluate_files(
    snakemake.input,
    snakemake.output,
    fom_options=snakemake.params.fom,
    classification=snakemake.params.classification,
    class_names=snakemake.params.class_names,
    ks_p_value_threshold=snakemake.params.ks_p_value_threshold,
)
