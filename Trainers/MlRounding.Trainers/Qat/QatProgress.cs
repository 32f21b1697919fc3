namespace MlRounding.Trainers;

/// <summary>Progress of training, reported once per epoch.</summary>
public readonly struct QatProgress : IEquatable<QatProgress>
{
    /// <summary>Creates a progress report.</summary>
    /// <param name="epoch">1-based epoch.</param>
    /// <param name="trainingLoss">Mean training loss of the epoch.</param>
    /// <param name="validationMetric">Accuracy (classification) or RMSE (regression) on the validation rows, or NaN without validation.</param>
    /// <param name="validationLoss">The training loss on the validation rows, or NaN without validation.</param>
    /// <param name="bestEpoch">The epoch training keeps so far (0 while only float warm-up epochs have run).</param>
    /// <param name="maxEpoch">The most epochs this training runs, or 0 when not known.</param>
    public QatProgress(int epoch, double trainingLoss, double validationMetric, double validationLoss = double.NaN, int bestEpoch = 0, int maxEpoch = 0)
    {
        (Epoch, TrainingLoss, ValidationMetric) = (epoch, trainingLoss, validationMetric);
        (ValidationLoss, BestEpoch, MaxEpoch) = (validationLoss, bestEpoch, maxEpoch);
    }

    /// <summary>Gets the 1-based epoch.</summary>
    public int Epoch { get; }

    /// <summary>Gets the mean training loss of the epoch.</summary>
    public double TrainingLoss { get; }

    /// <summary>Gets the accuracy (classification) or RMSE (regression) on the validation rows, or NaN without validation.</summary>
    public double ValidationMetric { get; }

    /// <summary>
    /// Gets the training loss (cross-entropy, logistic loss or squared error) on the validation rows, or NaN without
    /// validation: with <see cref="ValidationMetric"/>, what <see cref="QatOptions.EpochSelection"/> judges the epochs by.
    /// </summary>
    public double ValidationLoss { get; }

    /// <summary>
    /// Gets the epoch training keeps so far: the best by <see cref="QatOptions.EpochSelection"/> on the validation rows, or
    /// the latest without validation rows; 0 while only float warm-up epochs have run.
    /// </summary>
    public int BestEpoch { get; }

    /// <summary>Gets the most epochs this training runs (<see cref="QatOptions.MaxEpoch"/>, or its automatic value for the rows), or 0 when not known.</summary>
    public int MaxEpoch { get; }

    /// <summary>Whether every field of <paramref name="other"/> is equal (NaN equal to NaN).</summary>
    /// <param name="other">The other report.</param>
    /// <returns>Whether they are equal.</returns>
    public bool Equals(QatProgress other) =>
        Epoch == other.Epoch && TrainingLoss.Equals(other.TrainingLoss) && ValidationMetric.Equals(other.ValidationMetric)
        && ValidationLoss.Equals(other.ValidationLoss) && BestEpoch == other.BestEpoch && MaxEpoch == other.MaxEpoch;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is QatProgress other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Epoch, TrainingLoss, ValidationMetric, ValidationLoss, BestEpoch, MaxEpoch);

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"epoch {Epoch}/{MaxEpoch}: loss {TrainingLoss:G6}, validation {ValidationMetric:G6} (loss {ValidationLoss:G6}), kept {BestEpoch}");

    /// <summary>Whether two reports are equal.</summary>
    /// <param name="left">A report.</param>
    /// <param name="right">Another report.</param>
    /// <returns>Whether they are equal.</returns>
    public static bool operator ==(QatProgress left, QatProgress right) => left.Equals(right);

    /// <summary>Whether two reports differ.</summary>
    /// <param name="left">A report.</param>
    /// <param name="right">Another report.</param>
    /// <returns>Whether they differ.</returns>
    public static bool operator !=(QatProgress left, QatProgress right) => !left.Equals(right);
}
