namespace MlRounding.Ops;

/// <summary>A rounding module whose hardness (k, beta or alpha) can be changed during training, for example by a <see cref="HardnessSchedule"/>.</summary>
public interface IHasHardness
{
    /// <summary>Gets or sets the hardness: larger is closer to rounding, 0 is the identity.</summary>
    double Hardness { get; set; }
}
