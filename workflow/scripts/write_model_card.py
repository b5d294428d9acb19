from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.learning.export import write_model_card_files

write_model_card_files(
    onnx=snakemake.input.onnx,
    scaler=snakemake.input.scaler,
    facts=snakemake.input.facts,
    evaluation=snakemake.input.evaluation,
    check=snakemake.input.check,
    card=snakemake.output.card,
    task=snakemake.params.task,
    units=snakemake.params.units,
)
