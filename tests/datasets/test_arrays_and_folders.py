"""NumpyArrayDataset and ClipFolderDataset."""

from pathlib import Path

import numpy as np
import pytest

from gtzan_kedro.arrays import ChunkedArray
from gtzan_kedro.datasets import AudioDataset, ClipFolderDataset, NumpyArrayDataset
from tests.conftest import tone


def test_array_round_trip_is_memory_mapped(tmp_path: Path):
    array = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    dataset = NumpyArrayDataset(filepath=str(tmp_path / "05_model_input" / "train_sequences.npy"))

    dataset.save(array)
    loaded = dataset.load()

    assert isinstance(loaded, np.memmap)
    np.testing.assert_array_equal(loaded, array)


def test_string_arrays_round_trip_without_pickle(tmp_path: Path):
    track_ids = np.array(["blues.00000", "rock.00099"])
    dataset = NumpyArrayDataset(filepath=str(tmp_path / "ids.npy"), mmap_mode=None)

    dataset.save(track_ids)

    np.testing.assert_array_equal(dataset.load(), track_ids)


def test_chunked_arrays_are_written_chunk_by_chunk(tmp_path: Path):
    chunks = [np.full((n, 3), n, dtype=np.float64) for n in (2, 0, 5)]
    written = []

    def produce():
        for chunk in chunks:
            written.append(len(chunk))
            yield chunk

    dataset = NumpyArrayDataset(filepath=str(tmp_path / "examples.npy"))
    dataset.save(ChunkedArray((7, 3), np.dtype(np.float32), produce()))

    loaded = dataset.load()
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, np.concatenate(chunks).astype(np.float32))
    assert written == [2, 0, 5]


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        ([np.zeros((2, 3))], "hold 2 rows; the array announced 3"),
        ([np.zeros((3, 4))], "does not fit an array"),
    ],
)
def test_chunks_that_disagree_with_their_shape_leave_the_old_file(tmp_path, chunks, message):
    dataset = NumpyArrayDataset(filepath=str(tmp_path / "examples.npy"))
    dataset.save(np.ones((1, 3), dtype=np.float32))

    with pytest.raises(Exception, match=message):
        dataset.save(ChunkedArray((3, 3), np.dtype(np.float32), iter(chunks)))

    np.testing.assert_array_equal(dataset.load(), np.ones((1, 3)))
    assert [path.name for path in tmp_path.iterdir()] == ["examples.npy"]


def clip_folder(path: Path) -> ClipFolderDataset:
    """A clip folder of WAV files like the catalog's ``raw_clips``."""
    return ClipFolderDataset(path=str(path), dataset={"type": AudioDataset, "sample_rate": 22050})


def test_missing_or_empty_folder_loads_as_no_clips(tmp_path: Path):
    assert clip_folder(tmp_path / "absent").load() == {}
    (tmp_path / "empty").mkdir()
    assert clip_folder(tmp_path / "empty").load() == {}


def test_saving_skips_clips_already_on_disk(tmp_path: Path):
    folder = clip_folder(tmp_path)
    folder.save({"generated/blues/blues.00000.wav": tone(220.0, 0.2)})
    existing = tmp_path / "generated" / "blues" / "blues.00000.wav"
    before = existing.read_bytes()
    calls = []

    def make(frequency):
        def clip():
            calls.append(frequency)
            return tone(frequency, 0.2)

        return clip

    folder.save(
        {
            "generated/blues/blues.00000.wav": make(880.0),
            "generated/blues/blues.00001.wav": make(440.0),
        }
    )

    assert calls == [440.0]
    assert existing.read_bytes() == before
    assert sorted(folder.load()) == [
        "generated/blues/blues.00000.wav",
        "generated/blues/blues.00001.wav",
    ]
