"""PhysWorld: the procedural world LINA is measured in (see docs/physworld.md).

Modules, one job each:
  scene       scene spec (JSON-able) and seeded samplers per category
  geometry    shared sizes and layout numbers;  palette: colours;  raster: anti-aliased primitives
  render      Scene -> (uint8 image, {CSG node id: mask}), any resolution
  csg_build   Scene -> its true CSG (lina_nodes.csg.model.CSG) with layout boxes and constraints
  templates   prompts with paraphrases
  judge       image + CSG -> a verdict per constraint and the physical-alignment score
  corrupt     physics violations and image degradations for validating the judge;  validation: the rates
  split       the OOD rules of the biased split;  dataset: builder, shard format, readers
  pap         PAP-layout parquet export/import (pyarrow, imported lazily);  summary: judge aggregates
Core code: numpy and Pillow only, no ComfyUI, no torch.
"""
