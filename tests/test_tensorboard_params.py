"""Each run's TensorBoard log holds its hyper-parameters: the HParams tab and a text table."""

import json
import time

from test_cli_smoke import TINY, run

from herdemos.config import Config
from herdemos.logger import HPARAM_METRICS, ProgressLog


def tensorboard_params(tb_folder):
    """``(hparams, metric tags, text)`` as TensorBoard reads them from the event files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    events = EventAccumulator(str(tb_folder))
    events.Reload()
    hparams, metrics = {}, []
    for content in events.PluginTagToContent("hparams").values():
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        if data.HasField("session_start_info"):
            for key, value in data.session_start_info.hparams.items():
                hparams[key] = getattr(value, value.WhichOneof("kind"))
        if data.HasField("experiment"):
            metrics += [m.name.tag for m in data.experiment.metric_infos]
    text_tags = [t for t in events.Tags()["tensors"] if t.startswith("params")]
    text = "".join(
        e.tensor_proto.string_val[0].decode() for t in text_tags for e in events.Tensors(t)
    )
    return hparams, metrics, text


def test_a_training_run_logs_its_resolved_config_to_tensorboard(tmp_path):
    logdir = tmp_path / "run"
    args = ["--env", "point_env:PointGoal-v0", "--n_epochs", "1", "--logdir", str(logdir)]
    result = run("experiment/train.py", *args, *TINY)
    assert result.returncode == 0, result.stderr
    params = json.loads((logdir / "params.json").read_text())
    hparams, metrics, text = tensorboard_params(logdir / "tb")
    assert hparams["train.env"] == "point_env:PointGoal-v0"
    assert hparams["train.n_cycles"] == 2 and hparams["ddpg.batch_size"] == 32
    expected = {
        f"{s}.{k}" for s, fields in params.items() for k, v in fields.items() if v is not None
    }
    assert expected <= set(hparams)
    assert set(metrics) == set(HPARAM_METRICS)
    assert "| ddpg.batch_size | 32 |" in text and "| train.env | 'point_env:PointGoal-v0' |" in text


def test_a_resumed_session_does_not_log_the_config_again(tmp_path):
    (tmp_path / "params.json").write_text(Config().to_json())
    first = ProgressLog(tmp_path)
    first.close()
    time.sleep(1.1)  # event file names carry the second they were opened in
    resumed = ProgressLog(tmp_path, purge_step=1001)
    resumed.close()
    hparams, _, text = tensorboard_params(tmp_path / "tb")
    assert hparams["ddpg.batch_size"] == Config().ddpg.batch_size
    assert text.count("| ddpg.batch_size |") == 1
