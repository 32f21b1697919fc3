using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// Which epoch's weights training keeps (<see cref="EpochSelection"/>). With validation rows: by validation loss, which
/// moves smoothly, or by accuracy (RMSE for regression is the loss's square root: the same order), ties to the lower
/// loss; a snapshot of the best epoch's parameters is kept, and early stopping counts the epochs since it. Without
/// validation rows the last epoch is kept. Warm-up epochs are float: they are neither kept nor counted.
/// </summary>
internal sealed class KeptEpoch : IDisposable
{
    private readonly bool _validated;
    private readonly bool _byMetric;
    private readonly int _patience;
    private readonly int _warmup;
    private (double Metric, double Loss) _best = (double.NegativeInfinity, double.NegativeInfinity);
    private int _sinceBest;
    private Dictionary<string, Tensor>? _state;

    public KeptEpoch(QatData? validation, QatOptions options, int warmup)
    {
        _validated = validation is not null;
        _byMetric = validation is not null && options.Task != QatTask.Regression && options.EpochSelection switch
        {
            EpochSelection.ValidationMetric => true,
            EpochSelection.ValidationLoss => false,
            _ => validation.Count >= QatOptions.AccuracySelectionRows,
        };
        _patience = options.EarlyStoppingPatience;
        _warmup = warmup;
    }

    /// <summary>Gets the kept epoch's validation score, larger is better (metric and loss, or the negated loss; -∞ before any is kept).</summary>
    public (double Metric, double Loss) Best => _best;

    /// <summary>Gets the kept epoch so far (0 before any is kept).</summary>
    public int Epoch { get; private set; }

    /// <summary>Records an epoch's validation scores (NaN without validation rows); returns true when training should stop early.</summary>
    public bool Observe(int epoch, QatNetwork network, double metric, double validationLoss)
    {
        if (epoch <= _warmup)
        {
            return false;
        }

        if (!_validated)
        {
            Epoch = epoch;
            return false;
        }

        var score = _byMetric ? (metric, -validationLoss) : (-validationLoss, 0.0);
        if (score.CompareTo(_best) > 0)
        {
            _best = score;
            _sinceBest = 0;
            Epoch = epoch;
            DisposeState();
            _state = Snapshot(network);
            return false;
        }

        return _patience > 0 && ++_sinceBest >= _patience;
    }

    /// <summary>Loads the kept epoch's parameters into the network (nothing to do when the last epoch is kept).</summary>
    public void Restore(QatNetwork network)
    {
        if (_state is not null)
        {
            network.load_state_dict(_state);
            DisposeState();
        }
    }

    public void Dispose() => DisposeState();

    /// <summary>A copy of the network's parameters and buffers; the detached views it goes through are disposed with the scope.</summary>
    private static Dictionary<string, Tensor> Snapshot(QatNetwork network)
    {
        using var scope = NewDisposeScope();
        return network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().MoveToOuterDisposeScope());
    }

    private void DisposeState()
    {
        foreach (var t in _state?.Values ?? Enumerable.Empty<Tensor>())
        {
            t.Dispose();
        }

        _state = null;
    }
}
