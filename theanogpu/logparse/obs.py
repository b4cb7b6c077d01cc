"""What the line recognisers report, and how ``run.py`` reads it.

Every recogniser module has ``observe(text) -> list of observations``: ``(kind, data)`` pairs, where
*text* is one cleaned segment (no ``\\r``/``\\b``/ANSI, no timestamp prefix). The kinds:

=================  ============================================================================
kind               data
=================  ============================================================================
backend            ``name``: theano | tensorflow | cntk | torch | jax; ``via``: keras or None
requested          ``device``: gpu | cpu; ``raw``: the device string as printed (``gpu2``)
gpu_used           ``name`` (may be None), ``device`` (``gpu0``, ``cuda0``...), ``context``
gpu_seen           ``name``: a GPU the framework found, used or not
gpu_found          ``index``, ``name`` (may be None): a GPU TensorFlow found and will use unless a
                   later line says it ignores or skips it (the run is on the GPU if nothing does)
gpu_name_line      ``name``: a bare ``name: X`` line, a GPU's name only right under ``gpu_found``
cpu_fallback       ``reason``: the framework gave up on the GPU and runs on the CPU
init_failed        ``device``, ``reason`` (None: the reason is on the next line); another device
                   may still be used afterwards (Theano falls back to gpu0)
no_fallback        the framework says it will not fall back (forced device): the run dies
crash              ``reason``: the run cannot start (e.g. Theano 1.0 with ``device=gpu``)
cnmem              ``enabled``, ``fraction``, ``megabytes`` (the contract's cnmem object)
allocation_cache   ``enabled``: gpuarray's allocation cache (``gpuarray.preallocate < 0``)
cudnn              ``value``: a version string, ``not available`` or a message
warning            ``text``: something the user should know
reason_hint        ``reason``: a likely cause, used if the run turns out to be on the CPU
used_by_script     ``device``: what a test script says it computed on (``Used the cpu``)
samples            ``train``, ``validate``, ``unit`` (samples or steps)
epoch_header       ``epoch``, ``of``
progress           a Keras progress line that is not an epoch end (nothing to do)
epoch_end          ``current``, ``target``, ``seconds``, ``eta``, ``seconds_per_step``, ``metrics``,
                   ``style`` (bar, keras3, verbose2, unknown: ``N/Unknown``)
download           a dataset download starts: its progress bar is not an epoch
loop_epoch         ``epoch``, ``of``, ``seconds`` (None: not printed), ``metrics``, ``origin`` (dlt, loop):
                   a line a training loop that is not Keras prints for an epoch
loop_metrics       ``epoch``, ``origin``, ``metrics``: more metrics for an epoch already seen
loop_header        ``epoch``, ``of``: a loop's own ``Epoch 3`` header line
loop_start         a training loop begins (``... training``, ``Starting training...``)
loop_progress      ``epoch``, ``of``: a loop's step within an epoch (``Train Epoch: 1 [640/60000 (1%)]``)
eval_summary       ``metrics``: an evaluation line that ends the epoch of the last ``loop_progress``
loop_took          ``seconds``: ``Epoch took 338.5 seconds`` for the epoch of the last header
table_header       ``columns``: the header of a per-epoch table (fastai, Chainer); its rows follow as
                   lines no recogniser claims (run.py passes them on)
bar_end            ``epoch`` (None: from the desc-less bar's header), ``of``, ``desc``, ``seconds``,
                   ``target``, ``metrics``, ``origin`` (tqdm, lightning): a completed progress bar
script_time        ``seconds``, ``label`` (the phase), ``text``, ``derived``: a total time the script
                   printed for its loop
device_line        the ``theanogpu-device:`` JSON object (see modern.py)
run_line           the ``theanogpu-run:`` JSON object (see modern.py)
data               the ``theanogpu-data:`` JSON object (see modern.py)
result_line        the ``theanogpu-result:`` JSON object (see modern.py)
stopped            the ``theanogpu-stopped:`` JSON object: theanogpu stopped the run on purpose
=================  ============================================================================
"""

from typing import Any, Dict, List, Tuple

from theanogpu.devices import device_kind

__all__ = ["NONE", "Observation", "Observations", "device_kind"]

Observation = Tuple[str, Dict[str, Any]]
Observations = List[Observation]

NONE: Observations = []
