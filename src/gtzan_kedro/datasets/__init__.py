"""Custom Kedro datasets: audio clips, folders of clips and memory-mappable arrays."""

from gtzan_kedro.datasets.audio import AudioDataset, AudioMetadataDataset
from gtzan_kedro.datasets.clip_folder import ClipFolderDataset
from gtzan_kedro.datasets.numpy_array import NumpyArrayDataset

__all__ = ["AudioDataset", "AudioMetadataDataset", "ClipFolderDataset", "NumpyArrayDataset"]
