"""gtzan-kedro: music-genre classification on GTZAN as Kedro pipelines."""

import atexit
import gc
import logging
import warnings

__version__ = "0.1.0"

# Set here, where every entry point (kedro, gtzan-kedro, a model server) passes first.
# Deprecation notices raised inside Kedro, kedro-mlflow and MLflow at every start-up: nothing
# a user of this project can act on, and each fills a screen of the run's log.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")
# MLflow asks pyfunc models (ours, kedro-mlflow's) for type hints it can turn into a schema;
# requests are checked against the models' explicit signatures instead.
warnings.filterwarnings("ignore", message=r".*Add type hints to the `predict` method")
# Architectures read their feature set's namespaced datasets (`log_mel.train_examples`) by
# name, which Kedro warns about although it is what namespaces are for.
warnings.filterwarnings("ignore", message=r"One or more dataset names contain '\.'")
# Every model's predict function shares one code object, which TensorFlow counts traces by:
# a run that evaluates or logs several models, each traced once, reads to it as one function
# retraced again and again, and it warns about "tf.function retracing".
logging.getLogger("tensorflow").addFilter(
    lambda record: "triggered tf.function retracing" not in record.getMessage()
)

# At exit, the interpreter's last garbage collections walk every object of TensorFlow, MLflow
# and librosa: 1 to 1.5 s after a command has answered, for memory the system frees anyway.
# Freezing only skips those collections: exit handlers run after it (MLflow's, logging's
# flush) still work, and objects are still freed by reference counting.
atexit.register(gc.freeze)
