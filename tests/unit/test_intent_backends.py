"""Intent keys in matrix files, and their translation per backend (Theano flags or environment).

Each mapping is the documented variable of that framework; tests/integration/test_translation_real.py
checks inside the real stacks that the frameworks read them as meant.
"""

import pytest

from theanogpu import resources
from theanogpu.backends import DTYPE_POLICY_VAR, translate_variant
from theanogpu.errors import UserError
from theanogpu.intent import Memory, memory_from_theano, parse_memory, parse_precision, parse_threads
from theanogpu.run.plan import StackTarget, plan_runs
from theanogpu.variants import parse_matrix, parse_variant_spec


def variant(spec):
    return parse_variant_spec(spec)


def matrix(name):
    path = resources.templates_dir() / name
    return parse_matrix(path.read_text(), str(path))


# ------------------------------------------------------------------------------------ vocabulary


@pytest.mark.parametrize("text, expected", [
    ("0.8", Memory("amount", 0.8)), ("2048", Memory("amount", 2048.0)), ("preallocate=0.5", Memory("amount", 0.5)),
    ("grow", Memory("grow")), ("OFF", Memory("off")), ("0", Memory("off")),
])
def test_memory_policies(text, expected):
    assert parse_memory(text, "m.ini [x]") == expected


@pytest.mark.parametrize("text", ["-1", "abc", "nan", "inf", "", "1e999"])
def test_bad_memory_names_the_place(text):
    with pytest.raises(UserError) as err:
        parse_memory(text, "m.ini [x]")
    assert str(err.value).startswith("m.ini [x]: memory=")


def test_precision_and_threads_vocabulary():
    assert parse_precision("mixed_float16", "w") == "mixed" and parse_precision("64", "w") == "float64"
    assert parse_threads("all", "w") == 0 and parse_threads("4", "w") == 4
    for bad in ("0", "-2", "two", ""):
        with pytest.raises(UserError):
            parse_threads(bad, "w")
    with pytest.raises(UserError) as err:
        parse_precision("bfloat8", "--floatx")
    assert str(err.value).startswith("--floatx=bfloat8:")


def test_theano_memory_flags_as_intent():
    assert memory_from_theano("lib.cnmem", "0.8") == Memory("amount", 0.8)
    assert memory_from_theano("lib.cnmem", "0") == Memory("off")
    assert memory_from_theano("gpuarray.preallocate", "0") == Memory("grow")
    assert memory_from_theano("gpuarray.preallocate", "-1") == Memory("off")
    assert memory_from_theano("lib.cnmem", "lots") is None


def test_matrix_sections_mix_intent_env_flags_and_backends():
    (v,) = parse_matrix("[x]\ndevice = cuda1\nprecision = mixed\nmemory = grow\nthreads = 2\n"
                        "env.MY_VAR = a b\nopenmp = True\nbackends = theano, torch\n", "m.ini")
    assert v.flags == {"device": "cuda1", "openmp": "True"}
    assert (v.precision, v.memory, v.threads, v.env, v.backends) == \
        ("mixed", Memory("grow"), 2, {"MY_VAR": "a b"}, ("theano", "torch"))
    intent = v.intent()
    assert (intent.device, intent.device_index) == ("gpu", 1)
    assert v.written()["backends"] == "theano,torch" and v.written()["env.MY_VAR"] == "a b"


@pytest.mark.parametrize("text, fragment", [
    ("[x]\nprecision = float32\nfloatX = float64\n", "precision and floatX"),
    ("[x]\nmemory = 0.5\nlib.cnmem = 0.8\n", "memory and lib.cnmem"),
    ("[x]\nbackends = theano, cntk\n", "backends=theano, cntk"),
    ("[x]\nenv.1BAD = x\n", "env.1BAD"),
    ("[x]\nthreads = many\n", "threads=many"),
    ("[x]\nFLOATX = float32\nfloatX = float64\n", "given twice"),
])
def test_bad_intent_keys(text, fragment):
    with pytest.raises(UserError) as err:
        parse_matrix(text, "m.ini")
    assert "m.ini [x]" in str(err.value) and fragment in str(err.value)


# ------------------------------------------------------------------------------------ Theano


def test_theano_gets_flags_in_its_dialect():
    v = variant("g:device=gpu,precision=float32,memory=0.8")
    old = translate_variant(v, "theano", "0.8")
    assert old.flags == {"device": "gpu", "floatX": "float32", "lib.cnmem": "0.8"} and old.env == {}
    new = translate_variant(v, "theano", "1.0")
    assert new.flags == {"device": "cuda", "floatX": "float32", "gpuarray.preallocate": "0.8"}
    assert any("gpuarray.preallocate" in note for note in new.notes)
    assert new.floatx == "float32"


@pytest.mark.parametrize("dialect, memory, expected", [
    ("1.0", "off", {"gpuarray.preallocate": "-1"}), ("1.0", "grow", {"gpuarray.preallocate": "0"}),
    ("0.8", "off", {"lib.cnmem": "0"}), ("0.8", "grow", {"lib.cnmem": "0"}),
])
def test_theano_memory_policies(dialect, memory, expected):
    flags = translate_variant(variant("g:device=gpu,memory=%s" % memory), "theano", dialect).flags
    assert {key: flags[key] for key in expected} == expected


def test_theano_mixed_precision_and_threads():
    out = translate_variant(variant("m:device=cpu,precision=mixed,threads=3"), "theano", "1.0")
    assert out.flags["floatX"] == "float32" and any("no mixed precision" in note for note in out.notes)
    assert out.env == {"OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "3"}
    assert any("openmp=True" in note for note in out.notes)
    all_cores = translate_variant(variant("a:device=cpu,threads=all,openmp=True"), "theano", "1.0", cpu_count=8)
    assert all_cores.env["OMP_NUM_THREADS"] == "8" and not any("openmp" in note for note in all_cores.notes)


def test_theano_flags_pass_as_written_without_a_dialect():
    out = translate_variant(variant("g:device=gpu,lib.cnmem=0.8"), "theano", None)
    assert out.flags == {"device": "gpu", "lib.cnmem": "0.8"}


# ------------------------------------------------------------------------------------ Keras 3


@pytest.mark.parametrize("backend, cpu_env", [
    ("torch", {"CUDA_VISIBLE_DEVICES": ""}), ("tensorflow", {"CUDA_VISIBLE_DEVICES": ""}),
    ("jax", {"JAX_PLATFORMS": "cpu"}),
])
def test_cpu_hides_the_gpu_per_backend(backend, cpu_env):
    out = translate_variant(variant("c:device=cpu,floatX=float32"), backend)
    assert out.env == dict(cpu_env, KERAS_BACKEND=backend) and out.floatx == "float32"
    gpu = translate_variant(variant("g:device=gpu"), backend)
    assert "CUDA_VISIBLE_DEVICES" not in gpu.env and "JAX_PLATFORMS" not in gpu.env
    assert translate_variant(variant("g1:device=cuda1"), backend).env["CUDA_VISIBLE_DEVICES"] == "1"


@pytest.mark.parametrize("backend, memory, expected, noted", [
    ("jax", "0.8", {"XLA_PYTHON_CLIENT_PREALLOCATE": "true", "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.8"}, False),
    ("jax", "grow", {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}, False),
    ("jax", "off", {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "XLA_PYTHON_CLIENT_ALLOCATOR": "platform"}, False),
    ("jax", "2048", {}, True),
    ("tensorflow", "grow", {"TF_FORCE_GPU_ALLOW_GROWTH": "true"}, False),
    ("tensorflow", "off", {"TF_GPU_ALLOCATOR": "cuda_malloc_async"}, True),
    ("tensorflow", "0.8", {}, True),
    ("torch", "grow", {"PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True"}, False),
    ("torch", "off", {"PYTORCH_NO_CUDA_MEMORY_CACHING": "1"}, False),
    ("torch", "0.8", {}, True),
])
def test_memory_policy_per_backend(backend, memory, expected, noted):
    out = translate_variant(variant("g:device=gpu,memory=%s" % memory), backend)
    extra = {key: value for key, value in out.env.items() if key != "KERAS_BACKEND"}
    assert extra == expected
    assert any("memory" in note for note in out.notes) == noted


def test_theano_memory_flags_mean_the_same_on_modern_backends():
    out = translate_variant(variant("g:device=gpu,lib.cnmem=0.8"), "jax")
    assert out.env["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.8"
    on_cpu = translate_variant(variant("c:device=cpu,lib.cnmem=0.8"), "jax")
    assert "XLA_PYTHON_CLIENT_MEM_FRACTION" not in on_cpu.env
    assert any("no effect on the CPU" in note for note in on_cpu.notes)


def test_threads_and_precision_per_backend():
    tf = translate_variant(variant("t:device=cpu,threads=2"), "tensorflow")
    assert tf.env["TF_NUM_INTRAOP_THREADS"] == "2" and tf.env["OMP_NUM_THREADS"] == "2"
    jax1 = translate_variant(variant("t:device=cpu,threads=1"), "jax")
    assert "intra_op_parallelism_threads=1" in jax1.env["XLA_FLAGS"]
    jax2 = translate_variant(variant("t:device=cpu,threads=2"), "jax")
    assert "XLA_FLAGS" not in jax2.env and any("no setting" in note for note in jax2.notes)
    mixed = translate_variant(variant("m:device=gpu,precision=mixed"), "torch")
    assert mixed.env[DTYPE_POLICY_VAR] == "mixed_float16" and mixed.floatx == "float32"
    assert translate_variant(variant("d:device=cpu,floatX=float64"), "torch").floatx == "float64"


def test_theano_only_flags_are_named_not_silently_dropped():
    out = translate_variant(variant("o:device=cpu,openmp=True"), "torch")
    assert any(note.startswith("openmp=True is a Theano flag with no PyTorch equivalent") for note in out.notes)


def test_raw_env_wins_and_is_noted():
    out = translate_variant(variant("x:device=cpu,env.CUDA_VISIBLE_DEVICES=3,env.OTHER=1"), "torch")
    assert out.env["CUDA_VISIBLE_DEVICES"] == "3" and out.env["OTHER"] == "1"
    assert any("replaces CUDA_VISIBLE_DEVICES" in note for note in out.notes)


# ------------------------------------------------------------------------------------ templates


def test_cpu_gpu_matrix_plans_on_theano_and_keras3_alike():
    stacks = [StackTarget("theano10", "1.0", "theano"), StackTarget("keras3-torch", None, "torch")]
    runs = plan_runs(matrix("cpu-gpu.ini"), stacks, 1)
    by_label = {run.label: run for run in runs}
    assert sorted(by_label) == ["cpu@keras3-torch", "cpu@theano10", "gpu@keras3-torch", "gpu@theano10"]
    assert by_label["gpu@theano10"].flags["device"] == "cuda"
    assert by_label["cpu@keras3-torch"].env["CUDA_VISIBLE_DEVICES"] == ""
    assert by_label["gpu@keras3-torch"].flags == {} and not by_label["gpu@keras3-torch"].skip


def test_cpu_tuning_matrix_has_three_theano_variants_and_skips_the_rest_elsewhere():
    variants = matrix("cpu-tuning.ini")
    assert all(v.requested_device == "cpu" for v in variants)
    theano = StackTarget("theano10", "1.0", "theano", "-lopenblas", "system OpenBLAS")
    runs = plan_runs(variants, [theano, StackTarget("keras3-jax", None, "jax")], 1, cpu_count=4)
    ran = [run for run in runs if not run.skip]
    assert len([run for run in ran if run.stack.name == "theano10"]) >= 3
    blas = next(run for run in runs if run.label == "blas@theano10")
    assert blas.flags["blas.ldflags"] == "-lopenblas"
    assert next(run for run in runs if run.label == "openmp@theano10").env["OMP_NUM_THREADS"] == "4"
    skipped = {run.label for run in runs if run.skip}
    assert "openmp@keras3-jax" in skipped and "default@keras3-jax" not in skipped


def test_auto_blas_without_a_library_skips_with_the_reason():
    (v,) = parse_matrix("[blas]\ndevice = cpu\nblas.ldflags = auto\n", "m.ini")
    (run,) = plan_runs([v], [StackTarget("theano08", "0.8", "theano", None, "no BLAS library found")], 1)
    assert run.skip and "no BLAS library found" in run.skip
