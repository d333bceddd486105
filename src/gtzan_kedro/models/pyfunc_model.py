"""The pyfunc model MLflow logs, loads and serves, as a script: MLflow's models from code.

MLflow runs this file to rebuild the model, so the artefact holds no pickled Python object
(https://mlflow.org/docs/latest/ml/model/models-from-code/).
"""

from mlflow.models import set_model

from gtzan_kedro.models.pyfunc import GenreClassifierModel

set_model(GenreClassifierModel())
