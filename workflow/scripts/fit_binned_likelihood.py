from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.statistics.binned import fit_binned_likelihood_files
from cmsnn.vocabulary import at_mass_point_files

fit_binned_likelihood_files(
    predictions={"validation": snakemake.input.validation, "test": snakemake.input.test},
    shares=snakemake.input.shares,
    histograms=snakemake.output.histograms,
    binning=snakemake.output.binning,
    numbers=snakemake.output.numbers,
    by_signal=snakemake.output.by_signal,
    workspace=snakemake.output.workspace,
    workspace_class_norms=snakemake.output.workspace_class_norms,
    datacard=snakemake.output.datacard,
    shapes=snakemake.output.shapes,
    datacard_class_norms=snakemake.output.datacard_class_norms,
    shapes_class_norms=snakemake.output.shapes_class_norms,
    task=snakemake.params.task,
    options=snakemake.params.options,
    fom_options=snakemake.params.fom,
    at_mass_points=at_mass_point_files(dict(snakemake.input.items()), ("validation", "test")),
)
