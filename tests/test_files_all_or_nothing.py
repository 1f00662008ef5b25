"""Writing files: refused before anything is touched, or done in full; never made worse.

Every refusal here is checked three ways: the exception and its words (the argument or file,
the rule), the model's weights and the optimizer's state exactly as before, and the files
exactly as before (bytes, and a link still a link pointing where it pointed).
"""
import errno
import os
import signal
import socket
import stat

import numpy as np
import pytest

import zerodl
from zerodl import History, mlp
from zerodl.callbacks import CSVLogger, LambdaCallback, ModelCheckpoint
from zerodl.core._fileio import atomic_write, check_output_path
from zerodl.optimizers import Adam

from state_checks import folder_tree, same_state

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4)).astype(np.float32)
D = RNG.integers(0, 3, 40)


def net(seed=0):
    return mlp([4, 5, 3], seed=seed)


def weights(model) -> dict:
    return {k: p.copy() for k, p in model.params.items()}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture
def folder(tmp_path):
    """A folder with a good model file, a link to it, a sub-folder, a FIFO and a plain file."""
    net(seed=1).save(tmp_path / "good.npz")
    (tmp_path / "link.npz").symlink_to("good.npz")
    (tmp_path / "sub").mkdir()
    (tmp_path / "dirlink").symlink_to("sub")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "notes.txt").write_text("not a folder")
    return tmp_path


# -- targets that are not regular files ------------------------------------------------------

@pytest.mark.parametrize("name,kind", [("sub", "which is a folder"),
                                       ("dirlink", "which is a folder"),
                                       ("fifo", "which is a named pipe")])
def test_save_refuses_a_target_that_is_not_a_regular_file(folder, name, kind):
    model, before = net(), folder_tree(folder)
    saved = weights(model)
    with pytest.raises(ValueError, match=f"path must be a regular file or a new one; got "
                                         f"'.*{name}'.*{kind}"):
        model.save(folder / name)
    assert folder_tree(folder) == before and same(weights(model), saved)


def test_save_refuses_a_socket(tmp_path):
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(ValueError, match="which is a socket"):
            net().save(path)
        assert stat.S_ISSOCK(path.lstat().st_mode)


def test_dev_null_is_refused_and_stays_a_device(monkeypatch):
    # Were the check ever lost, nothing may reach /dev/null: the writing itself fails loudly.
    def never(*args, **kwargs):
        raise AssertionError("a write to /dev/null was attempted")
    monkeypatch.setattr("tempfile.mkstemp", never)
    monkeypatch.setattr(os, "replace", never)
    with pytest.raises(ValueError, match="got '/dev/null', which is a character device"):
        net().save("/dev/null")
    with pytest.raises(ValueError, match="checkpoint must be a regular file"):
        net().fit(X, D, verbose=0, checkpoint="/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


# -- symbolic links are written through --------------------------------------------------------

def test_save_through_a_symlink_replaces_its_target_and_keeps_the_link(folder):
    model = net(seed=7)
    model.save(folder / "link.npz")
    assert (folder / "link.npz").is_symlink()
    assert os.readlink(folder / "link.npz") == "good.npz"
    assert same(weights(zerodl.load(folder / "good.npz")), weights(model))
    assert not list(folder.glob(".*.tmp"))


def test_a_chain_of_links_and_a_dangling_link_are_written_through(folder):
    (folder / "link2.npz").symlink_to("link.npz")
    (folder / "new_link.npz").symlink_to("sub/new.npz")       # points to a new file
    model = net(seed=8)
    model.save(folder / "link2.npz")
    model.save(folder / "new_link.npz")
    assert all((folder / n).is_symlink() for n in ("link.npz", "link2.npz", "new_link.npz"))
    for target in ("good.npz", "sub/new.npz"):
        assert same(weights(zerodl.load(folder / target)), weights(model))


def test_a_link_into_a_missing_folder_is_refused(folder):
    (folder / "dangling.npz").symlink_to("nowhere/m.npz")
    before = folder_tree(folder)
    with pytest.raises(FileNotFoundError, match="folder '.*nowhere' does not exist"):
        net().save(folder / "dangling.npz")
    assert folder_tree(folder) == before


def test_checkpoint_through_a_symlink_keeps_the_link(folder):
    (folder / "ck_target.npz").write_bytes(b"")
    (folder / "ck.npz").symlink_to("ck_target.npz")
    model = net()
    model.fit(X, D, epochs=2, batch_size=10, verbose=0, checkpoint=folder / "ck.npz")
    assert (folder / "ck.npz").is_symlink()
    resumed = net()
    resumed.fit(X, D, epochs=2, batch_size=10, verbose=0, resume=folder / "ck_target.npz")
    assert same(weights(resumed), weights(model))


# -- NaN and inf weights -------------------------------------------------------------------

@pytest.mark.parametrize("key,index,value,shown", [
    ("W1", (2, 3), np.nan, r"nan at index \(2, 3\)"),
    ("b1", (4,), np.inf, "inf at index 4"),
    ("W2", (0, 0), -np.inf, r"-inf at index \(0, 0\)"),
])
def test_save_refuses_non_finite_weights_and_keeps_the_old_file(folder, key, index, value,
                                                                shown):
    model = net()
    model.params[key][index] = value
    saved, before = weights(model), folder_tree(folder)
    with pytest.raises(ValueError, match=rf"params\['{key}'\] must hold only finite numbers "
                                         rf"to be saved .*; got {shown} .*Nothing was written"):
        model.save(folder / "good.npz")
    assert folder_tree(folder) == before
    assert all(np.array_equal(saved[k], model.params[k], equal_nan=True) for k in saved)


# -- what a path is ----------------------------------------------------------------------------

@pytest.mark.parametrize("value,exc,words", [
    (3, TypeError, "path must be a path .*got 3"),
    (None, TypeError, "path must be a path .*got None"),
    (b"m.npz", TypeError, "path must be a path"),
    ("", ValueError, "path must be a non-empty path; got ''"),
])
def test_save_refuses_what_is_not_a_path(tmp_path, monkeypatch, value, exc, words):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exc, match=words):
        net().save(value)
    assert folder_tree(tmp_path) == {}


def test_tilde_means_home_for_save_load_and_checkpoint(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    model = net()
    model.fit(X, D, verbose=0, checkpoint="~/ck.npz")
    model.save("~/m.npz")
    plot = zerodl.plot_history(model.history, "~/curves.png")
    plot.clear()
    names = sorted(p.name for p in home.iterdir() if not p.name.startswith("."))  # no caches
    assert names == ["ck.npz", "curves.png", "m.npz"]
    assert not (tmp_path / "~").exists()
    assert same(weights(zerodl.load("~/m.npz")), weights(model))


# -- folders ---------------------------------------------------------------------------------

def test_a_missing_folder_is_named_and_not_created(folder):
    before = folder_tree(folder)
    with pytest.raises(FileNotFoundError, match=r"path must be in an existing folder; got "
                                                r"'.*a/b/m.npz', but the folder '.*/a' does "
                                                r"not exist"):
        net().save(folder / "a" / "b" / "m.npz")
    with pytest.raises(FileNotFoundError, match="but '.*notes.txt' is a file, not a folder"):
        net().save(folder / "notes.txt" / "m.npz")
    assert folder_tree(folder) == before


@pytest.mark.parametrize("flag,where", [(os.ST_RDONLY, "on a read-only file system"),
                                        (0, "that you may not write to")])
def test_a_read_only_folder_is_refused_up_front(folder, monkeypatch, flag, where):
    class Statvfs:
        f_flag = flag
    # As a user without write permission (the tests may run as root, who has it anyway).
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    monkeypatch.setattr(os, "statvfs", lambda path: Statvfs())
    model = net()
    saved, before = weights(model), folder_tree(folder)
    with pytest.raises(PermissionError, match=f"path must be in a folder you can write to; got "
                                              f"'.*good.npz', in the folder '.*' {where}"):
        model.save(folder / "good.npz")
    with pytest.raises(PermissionError, match="checkpoint must be in a folder you can write"):
        model.fit(X, D, verbose=0, checkpoint=folder / "ck.npz")
    assert folder_tree(folder) == before and same(weights(model), saved)


# -- errors while writing name the real file and keep the old one -----------------------------

@pytest.mark.parametrize("where,code,reason", [
    ("fsync", errno.ENOSPC, "No space left on device"),
    ("replace", errno.EROFS, "Read-only file system"),
    ("write", errno.EIO, "Input/output error"),
])
def test_an_error_while_writing_names_the_target_and_keeps_the_old_file(folder, monkeypatch,
                                                                        where, code, reason):
    def fail(*args, **kwargs):
        # As the system reports it: the temporary file's name, where it has one.
        raise OSError(code, os.strerror(code), *([str(args[0])] if args else []))

    def half_written(f, **arrays):          # the disk fails in the middle of the archive
        f.write(b"PK\x03\x04")
        fail()
    if where == "write":
        monkeypatch.setattr(np, "savez", half_written)
    else:
        monkeypatch.setattr(os, where, fail)
    before = folder_tree(folder)
    with pytest.raises(OSError) as info:
        net(seed=3).save(folder / "good.npz")
    message = str(info.value)
    assert info.value.errno == code
    assert f"could not write {folder / 'good.npz'}: {reason}" in message
    assert "previous contents are unchanged" in message and ".tmp" not in message
    assert folder_tree(folder) == before                 # no temporary file left either


def test_a_new_file_that_cannot_be_written_leaves_nothing(folder, monkeypatch):
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    before = folder_tree(folder)
    with pytest.raises(OSError, match=r"could not write .*new.npz: No space left on device; "
                                      r"no file was left there"):
        net().save(folder / "new.npz")
    assert folder_tree(folder) == before


def test_atomic_write_of_other_files_still_creates_their_folders(tmp_path):
    with atomic_write(tmp_path / "cache" / "deep" / "f.bin") as f:
        f.write(b"x")
    assert (tmp_path / "cache" / "deep" / "f.bin").read_bytes() == b"x"
    with pytest.raises(ValueError, match="cache', which is a folder"):
        with atomic_write(tmp_path / "cache"):
            pass


# -- fit(checkpoint=...) and the callbacks are checked before training -------------------------

@pytest.mark.parametrize("target,exc,words", [
    ("sub", ValueError, "checkpoint must be a regular file .* folder"),
    ("dirlink", ValueError, "checkpoint must be a regular file .*a link to .* folder"),
    ("fifo", ValueError, "checkpoint must be a regular file .* named pipe"),
    ("nowhere/ck.npz", FileNotFoundError, "checkpoint must be in an existing folder"),
    ("notes.txt/ck.npz", FileNotFoundError, "checkpoint must be in an existing folder"),
])
def test_fit_refuses_a_bad_checkpoint_path_before_training(folder, target, exc, words):
    model, optimizer = net(), Adam(0.01)
    model.fit(X, D, epochs=1, batch_size=10, verbose=0, optimizer=optimizer)   # some state
    saved, state, before = weights(model), optimizer.state_dict(), folder_tree(folder)
    with pytest.raises(exc, match=words):
        model.fit(X, D, epochs=3, batch_size=10, verbose=0, optimizer=optimizer,
                  checkpoint=folder / target)
    assert same(weights(model), saved) and same_state(optimizer.state_dict(), state)
    assert folder_tree(folder) == before


def test_fit_with_a_bad_checkpoint_path_does_not_resume_either(folder, tmp_path):
    trained = net()
    trained.fit(X, D, epochs=1, batch_size=10, verbose=0, checkpoint=folder / "ck.npz")
    model = net(seed=5)
    saved, before = weights(model), folder_tree(folder)
    with pytest.raises(ValueError, match="checkpoint must be a regular file"):
        model.fit(X, D, epochs=2, batch_size=10, verbose=0, resume=folder / "ck.npz",
                  checkpoint=folder / "sub")
    assert same(weights(model), saved) and folder_tree(folder) == before


@pytest.mark.parametrize("make,words", [
    (lambda f: ModelCheckpoint(f / "missing" / "w{epoch}.npz"),
     "filepath must be in an existing folder; .* the folder '.*missing' does not exist"),
    (lambda f: ModelCheckpoint(f / "sub"), "filepath must be a regular file .* folder"),
    (lambda f: CSVLogger(f / "missing" / "log.csv"),
     "filename must be in an existing folder; .* the folder '.*missing' does not exist"),
    (lambda f: CSVLogger(f / "fifo"), "filename must be a regular file .* named pipe"),
])
def test_callbacks_check_their_files_when_made(folder, make, words):
    before = folder_tree(folder)
    with pytest.raises((ValueError, FileNotFoundError), match=words):
        make(folder)
    assert folder_tree(folder) == before


def test_plot_refuses_a_missing_folder_and_writes_through_links(folder):
    history = History()
    history.on_epoch_end(1, {"loss": 1.0, "accuracy": 0.5})
    history.on_epoch_end(2, {"loss": 0.5, "accuracy": 0.7})
    before = folder_tree(folder)
    with pytest.raises(FileNotFoundError, match="path must be in an existing folder; .*'.*"
                                                "plots' does not exist"):
        zerodl.plot_history(history, folder / "plots" / "c.png")
    with pytest.raises(ValueError, match="path must be a regular file .* folder"):
        zerodl.plot_history(history, folder / "sub")
    assert folder_tree(folder) == before
    (folder / "c.png").symlink_to("sub/curves.png")
    zerodl.plot_history(history, folder / "c.png").clear()
    assert (folder / "c.png").is_symlink()
    assert (folder / "sub" / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_check_output_path_creates_nothing_and_accepts_new_files(folder):
    before = folder_tree(folder)
    assert check_output_path("out", folder / "new.bin") == folder / "new.bin"
    assert check_output_path("out", folder / "a" / "b.bin", make_parents=True)
    assert folder_tree(folder) == before


# -- a checkpoint is not a model file -----------------------------------------------------------

def test_load_says_a_checkpoint_is_a_checkpoint(tmp_path):
    net().fit(X, D, verbose=0, checkpoint=tmp_path / "ck.npz")
    with pytest.raises(ValueError, match=r"ck.npz is a training checkpoint written by "
                                         r"fit\(checkpoint=...\).*fit\(resume=...\)"):
        zerodl.load(tmp_path / "ck.npz")


# -- SIGTERM stops fit like Ctrl-C ---------------------------------------------------------

def _terminate_at(step: int):
    """A callback that sends this process SIGTERM after ``step`` updates, once fit's own
    handler is in place (without it the signal would end the test run)."""
    def hook(batch, logs):
        if logs["step"] == step:
            assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None)
            os.kill(os.getpid(), signal.SIGTERM)
    return LambdaCallback(on_train_batch_end=hook)


def test_sigterm_stops_fit_after_the_batch_and_writes_the_checkpoint(tmp_path):
    model = net()
    history = model.fit(X, D, epochs=5, batch_size=10, verbose=0,
                        checkpoint=tmp_path / "ck.npz", callbacks=[_terminate_at(6)])
    assert history.interrupted and history.signal == "SIGTERM" and history.n_steps == 6
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL      # put back
    resumed = net()
    resumed.fit(X, D, epochs=5, batch_size=10, verbose=0, resume=tmp_path / "ck.npz")
    straight = net()
    straight.fit(X, D, epochs=5, batch_size=10, verbose=0)
    assert same(weights(resumed), weights(straight))


def test_a_programs_own_sigterm_handler_is_left_alone():
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        history = net().fit(X, D, epochs=2, batch_size=10, verbose=0,
                            callbacks=[LambdaCallback(on_train_batch_end=lambda b, logs:
                                       logs["step"] == 2 and os.kill(os.getpid(),
                                                                     signal.SIGTERM))])
        assert seen == [signal.SIGTERM] and not history.interrupted and history.n_steps == 8
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_load_of_a_fifo_is_refused_without_blocking(folder):
    import threading
    outcome = []

    def load():
        try:
            zerodl.load(folder / "fifo")
        except Exception as exc:          # noqa: BLE001 - the type is asserted below
            outcome.append(exc)
    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=20)
    if reader.is_alive():                 # blocked opening the FIFO: release it, then fail
        with open(folder / "fifo", "wb"):
            pass
        raise AssertionError("load blocked on a FIFO")
    assert isinstance(outcome[0], (FileNotFoundError, ValueError))
