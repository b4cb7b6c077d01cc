"""Reasons that are true: a fallback's own statement only, the real cause behind a misleading one, and
crash excerpts that end with the final exception and show the user's own frame."""

import json

from theanogpu.logparse import format_line, parse_lines, parse_text

PYGPU = ("ERROR (theano.gpuarray): pygpu was configured but could not be imported or is too old (version 0.7 or "
         "higher required)")
URL_TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "/usr/lib/python3.8/urllib/request.py", line 1350, in do_open',
    "    encode_chunked=req.has_header('Transfer-encoding'))",
    "urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>",
    "",
    "During handling of the above exception, another exception occurred:",
    "",
    "Traceback (most recent call last):",
    '  File "train_mnist.py", line 12, in <module>',
    "    (x_train, y_train), (x_test, y_test) = mnist.load_data()",
    '  File "/venv/lib/python3.8/site-packages/keras/datasets/mnist.py", line 23, in load_data',
    "    file_hash='8a61469f7ea1b51cbae51d4f78837e45')",
    '  File "/venv/lib/python3.8/site-packages/keras/utils/data_utils.py", line 226, in get_file',
    "    raise Exception(error_msg.format(origin, e.errno, e.reason))",
    "Exception: URL fetch failure on https://s3.amazonaws.com/img-datasets/mnist.npz: None -- "
    "[Errno -3] Temporary failure in name resolution",
]


def test_a_fallback_reason_is_not_glued_to_a_later_unrelated_exception():
    lines = ["Using Theano backend.", PYGPU, "Epoch 1/1"] + ["batch %d" % i for i in range(5)] + URL_TRACEBACK
    result = parse_lines(lines, requested_device="gpu")
    assert result["fallback"] is True
    assert result["fallback_reason"] == "pygpu was configured but could not be imported or is too old"


def test_the_traceback_right_after_the_fallback_explains_it():
    lines = [PYGPU, "Traceback (most recent call last):",
             '  File "/venv/lib/python3.8/site-packages/theano/gpuarray/__init__.py", line 24, in <module>',
             "    import pygpu", "ModuleNotFoundError: No module named 'pygpu'"]
    result = parse_lines(lines, requested_device="gpu")
    assert result["fallback_reason"] == ("pygpu was configured but could not be imported or is too old "
                                         "(ModuleNotFoundError: No module named 'pygpu')")


def test_the_final_exception_and_the_users_frame_of_a_chained_traceback():
    result = parse_lines(URL_TRACEBACK)
    assert result["last_exception"].startswith("Exception: URL fetch failure on https://s3.amazonaws.com")
    assert result["user_frame"] == ('File "train_mnist.py", line 12, in <module>: '
                                    "(x_train, y_train), (x_test, y_test) = mnist.load_data()")


def test_notebook_cells_are_the_users_frames_and_cython_ones_are_not():
    result = parse_lines(["Traceback (most recent call last):",
                          '  File "<ipython-input-3-1f2e>", line 4, in <module>', "    model.fit(x, y)",
                          '  File "pygpu/gpuarray.pyx", line 1021, in pygpu.gpuarray.GpuContext.__cinit__',
                          "RuntimeError: no CUDA-capable device"])
    assert result["user_frame"] == 'File "<ipython-input-3-1f2e>", line 4, in <module>: model.fit(x, y)'


def run_line(**facts):
    return format_line(0.0, "m", "theanogpu-run: " + json.dumps(facts))


def test_nvcc_not_found_with_a_new_nvcc_on_path_says_what_is_really_wrong():
    log = "\n".join([
        run_line(variant="gpu", stack="theano08", requested="gpu", nvcc={"path": "/usr/local/bin/nvcc",
                                                                          "release": "13.0"}),
        format_line(1.0, "e", "ERROR (theano.sandbox.cuda): nvcc compiler not found on $PATH. Check your nvcc "
                              "installation and try again."),
        format_line(2.0, "o", "Epoch 1/1"),
    ])
    reason = parse_text(log)["fallback_reason"]
    assert "nvcc 13.0 (/usr/local/bin/nvcc)" in reason and "cannot parse" in reason
    assert "theanogpu doctor --stack theano08" in reason
    # Without a nvcc on PATH (or an old one) Theano's own words are the truth.
    plain = "\n".join([run_line(stack="theano08", nvcc=None),
                       format_line(1.0, "e", "nvcc compiler not found on $PATH")])
    assert parse_text(plain, requested_device="gpu")["fallback_reason"] == "nvcc compiler not found on $PATH"
    old = "\n".join([run_line(stack="theano08", nvcc={"path": "/usr/local/cuda-9.0/bin/nvcc", "release": "9.0"}),
                     format_line(1.0, "e", "nvcc compiler not found on $PATH")])
    assert parse_text(old, requested_device="gpu")["fallback_reason"] == "nvcc compiler not found on $PATH"
