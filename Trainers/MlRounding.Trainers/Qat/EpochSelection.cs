namespace MlRounding.Trainers;

/// <summary>Which epoch's weights the trainer keeps, judged on the validation rows (<see cref="QatProgress.BestEpoch"/>).</summary>
public enum EpochSelection
{
    /// <summary>
    /// The default: <see cref="ValidationMetric"/> for classification with at least
    /// <see cref="QatOptions.AccuracySelectionRows"/> validation rows, else <see cref="ValidationLoss"/>. On a few hundred
    /// rows accuracy moves in steps and ties, and the loss picks better epochs (digits); on thousands of rows the loss
    /// turns up epochs before the accuracy stops improving, and the accuracy picks better ones (Fashion-MNIST; both
    /// measured in docs/benchmarks.md).
    /// </summary>
    Automatic,

    /// <summary>The epoch with the lowest validation loss (cross-entropy, or squared error for regression).</summary>
    ValidationLoss,

    /// <summary>The epoch with the highest validation accuracy (lowest RMSE for regression), ties to the lower loss.</summary>
    ValidationMetric,
}
