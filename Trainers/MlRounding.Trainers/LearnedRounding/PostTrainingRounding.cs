namespace MlRounding.Trainers;

/// <summary>How a trained float network's weights are rounded to their codes (see <see cref="LearnedRoundingOptions"/>).</summary>
public enum PostTrainingRounding
{
    /// <summary>Learned rounding: each weight rounds up or down as a per-layer optimization on the calibration rows decides (AdaRound).</summary>
    Learned,

    /// <summary>Nearest rounding at the same steps: the baseline.</summary>
    Nearest,
}
