namespace MlRounding.Trainers;

/// <summary>
/// The rounding gradient inside the quantizers during quantization-aware training: how the backward pass sees the
/// rounding whose forward pass is exact (see the ops library's <c>RoundingGradient</c>), and how the steps are set.
/// </summary>
public enum QatGradient
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
