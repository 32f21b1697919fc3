namespace MlRounding.Trainers;

/// <summary>Progress of training, reported once per epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainingLoss">Mean training loss of the epoch.</param>
/// <param name="ValidationMetric">Accuracy (classification) or RMSE (regression) on the validation rows, or NaN without validation.</param>
/// <param name="ValidationLoss">
/// The training loss (cross-entropy, logistic loss or squared error) on the validation rows, or NaN without validation:
/// with <see cref="ValidationMetric"/>, what <see cref="QatOptions.EpochSelection"/> judges the epochs by.
/// </param>
/// <param name="BestEpoch">
/// The epoch training keeps so far: the best by <see cref="QatOptions.EpochSelection"/> on the validation rows, or the
/// latest without validation rows; 0 while only float warm-up epochs have run.
/// </param>
/// <param name="MaxEpoch">The most epochs this training runs (<see cref="QatOptions.MaxEpoch"/>, or its automatic value for the rows), or 0 when not known.</param>
public readonly record struct QatProgress(int Epoch, double TrainingLoss, double ValidationMetric, double ValidationLoss = double.NaN, int BestEpoch = 0, int MaxEpoch = 0);
