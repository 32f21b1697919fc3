namespace MlRounding.Trainers;

/// <summary>
/// How the quantizers of quantization-aware training learn (<see cref="QatOptions.Quantizer"/>): the step learned with
/// LSQ, or a step that follows the weights' and activations' ranges with one of the ops library's rounding gradients
/// (<c>RoundingGradient</c>) in the backward pass of the rounding, whose forward pass is exact.
/// </summary>
public enum QatQuantizer
{
    /// <summary>Straight-through round with learned steps (LSQ, Esser et al. 2019): the default.</summary>
    LearnedStepSize,

    /// <summary>Straight-through round with steps fixed from the weights' and activations' ranges.</summary>
    StraightThrough,

    /// <summary>Hard round, gradient of the sigmoid staircase; steepness annealed from <see cref="QatOptions.HardnessStart"/> to <see cref="QatOptions.HardnessEnd"/>.</summary>
    Sigmoid,

    /// <summary>Hard round, gradient of the softmax round; sharpness annealed.</summary>
    Softmax,

    /// <summary>Hard round, finite-difference gradient with half-width <see cref="QatOptions.FiniteDifferenceHalfWidth"/>.</summary>
    FiniteDifference,

    /// <summary>Soft round (Agustsson &amp; Theis) in the forward pass while training, hardness annealed; hard round at inference.</summary>
    SoftRound,

    /// <summary>Additive uniform noise while training, round at inference.</summary>
    Noise,
}

/// <summary>The 1.0 name of <see cref="QatQuantizer"/> (same members, same values).</summary>
[Obsolete("Renamed QatQuantizer: the option picks how the quantizers learn (LSQ is not a gradient). Use QatOptions.Quantizer.")]
public enum QatGradient
{
    /// <summary>See <see cref="QatQuantizer.LearnedStepSize"/>.</summary>
    LearnedStepSize = QatQuantizer.LearnedStepSize,

    /// <summary>See <see cref="QatQuantizer.StraightThrough"/>.</summary>
    StraightThrough = QatQuantizer.StraightThrough,

    /// <summary>See <see cref="QatQuantizer.Sigmoid"/>.</summary>
    Sigmoid = QatQuantizer.Sigmoid,

    /// <summary>See <see cref="QatQuantizer.Softmax"/>.</summary>
    Softmax = QatQuantizer.Softmax,

    /// <summary>See <see cref="QatQuantizer.FiniteDifference"/>.</summary>
    FiniteDifference = QatQuantizer.FiniteDifference,

    /// <summary>See <see cref="QatQuantizer.SoftRound"/>.</summary>
    SoftRound = QatQuantizer.SoftRound,

    /// <summary>See <see cref="QatQuantizer.Noise"/>.</summary>
    Noise = QatQuantizer.Noise,
}
