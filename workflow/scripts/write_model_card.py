from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.export import write_model_card

write_model_card(
    snakemake.input.onnx,
    snakemake.input.scaler,
    snakemake.input.facts,
    snakemake.input.evaluation,
    snakemake.input.check,
    snakemake.output.card,
    classification=snakemake.params.classification,
    class_names=snakemake.params.class_names,
    units=snakemake.params.units,
)
