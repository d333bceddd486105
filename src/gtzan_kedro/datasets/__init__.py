"""Custom Kedro datasets: audio clips, folders of clips, memory-mappable arrays and models."""

from gtzan_kedro.datasets.audio import AudioDataset, AudioMetadataDataset
from gtzan_kedro.datasets.clip_folder import ClipFolderDataset
from gtzan_kedro.datasets.feature_cache import FeatureCacheDataset, FeatureFingerprintsDataset
from gtzan_kedro.datasets.files import FileStatDataset, LocalFolderDataset
from gtzan_kedro.datasets.numpy_array import NumpyArrayDataset
from gtzan_kedro.datasets.optional import OptionalDataset

__all__ = [
    "AudioDataset",
    "AudioMetadataDataset",
    "ClipFolderDataset",
    "FeatureCacheDataset",
    "FeatureFingerprintsDataset",
    "FileStatDataset",
    "LocalFolderDataset",
    "NumpyArrayDataset",
    "OptionalDataset",
]
