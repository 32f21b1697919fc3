namespace MlRounding.Ops;

/// <summary>The curve of a <see cref="HardnessSchedule"/>'s ramp.</summary>
public enum ScheduleCurve
{
    /// <summary>start + (end - start) t.</summary>
    Linear,

    /// <summary>start (end / start)^t: geometric, equal ratios per step; start and end must be positive.</summary>
    Exponential,

    /// <summary>end + (start - end) (1 + cos(π t)) / 2: slow at both ends.</summary>
    Cosine,
}

/// <summary>
/// Anneals the hardness of a rounding op (k, beta or alpha) from <see cref="Start"/> to <see cref="End"/> over
/// <see cref="Steps"/> training steps; t = min(step / Steps, 1), and the value stays at End afterwards.
/// </summary>
public sealed class HardnessSchedule
{
    /// <summary>Creates a schedule.</summary>
    /// <param name="curve">Linear, exponential or cosine.</param>
    /// <param name="start">Hardness at step 0, in [0, 1e30] (positive for exponential).</param>
    /// <param name="end">Hardness from step <paramref name="steps"/> on, in [0, 1e30] (positive for exponential).</param>
    /// <param name="steps">Number of steps of the ramp, positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    public HardnessSchedule(ScheduleCurve curve, double start, double end, long steps)
    {
        if (!Enum.IsDefined(curve))
        {
            throw new ArgumentOutOfRangeException(nameof(curve), curve, "curve must be Linear, Exponential or Cosine.");
        }

        double min = curve == ScheduleCurve.Exponential ? double.Epsilon : 0;
        Check.InRange(start, min, Rounding.MaxHardness, nameof(start));
        Check.InRange(end, min, Rounding.MaxHardness, nameof(end));
        if (steps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be positive.");
        }

        Curve = curve;
        Start = start;
        End = end;
        Steps = steps;
    }

    /// <summary>Creates a schedule (the 1.0 signature).</summary>
    /// <param name="kind">Linear, exponential or cosine.</param>
    /// <param name="start">Hardness at step 0.</param>
    /// <param name="end">Hardness from step <paramref name="steps"/> on.</param>
    /// <param name="steps">Number of steps of the ramp, positive.</param>
    [Obsolete("ScheduleKind is renamed ScheduleCurve.")]
    public HardnessSchedule(ScheduleKind kind, double start, double end, long steps)
        : this((ScheduleCurve)kind, start, end, steps)
    {
    }

    /// <summary>Gets the curve of the ramp.</summary>
    public ScheduleCurve Curve { get; }

    /// <summary>Gets the curve of the ramp under its 1.0 name.</summary>
    [Obsolete("Renamed Curve (of type ScheduleCurve).")]
    public ScheduleKind Kind => (ScheduleKind)Curve;

    /// <summary>Gets the hardness at step 0.</summary>
    public double Start { get; }

    /// <summary>Gets the hardness at the end of the ramp.</summary>
    public double End { get; }

    /// <summary>Gets the length of the ramp in steps.</summary>
    public long Steps { get; }

    /// <summary>The hardness at <paramref name="step"/>.</summary>
    /// <param name="step">Training step, zero or more.</param>
    /// <returns>The hardness, between Start and End.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public double ValueAt(long step)
    {
        if (step < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "step must not be negative.");
        }

        if (step >= Steps)
        {
            return End;
        }

        double t = (double)step / Steps;
        return Curve switch
        {
            ScheduleCurve.Linear => Start + (End - Start) * t,
            ScheduleCurve.Exponential => Math.Exp(Math.Log(Start) + (Math.Log(End) - Math.Log(Start)) * t),
            _ => End + (Start - End) * (1 + Math.Cos(Math.PI * t)) / 2,
        };
    }

    /// <summary>Sets the hardness of <paramref name="module"/> to <see cref="ValueAt"/>(<paramref name="step"/>).</summary>
    /// <param name="module">A module with a hardness, e.g. <see cref="SoftRoundModule"/>.</param>
    /// <param name="step">Training step, zero or more.</param>
    public void Apply(IHasHardness module, long step)
    {
        ArgumentNullException.ThrowIfNull(module);
        module.Hardness = ValueAt(step);
    }
}

/// <summary>The 1.0 name of <see cref="ScheduleCurve"/> (same members, same values).</summary>
[Obsolete("Renamed ScheduleCurve.")]
public enum ScheduleKind
{
    /// <summary>See <see cref="ScheduleCurve.Linear"/>.</summary>
    Linear = ScheduleCurve.Linear,

    /// <summary>See <see cref="ScheduleCurve.Exponential"/>.</summary>
    Exponential = ScheduleCurve.Exponential,

    /// <summary>See <see cref="ScheduleCurve.Cosine"/>.</summary>
    Cosine = ScheduleCurve.Cosine,
}
