namespace MlRounding.Trainers;

/// <summary>Progress of learned rounding, reported once per weight matrix (convolution blocks first, then dense layers).</summary>
public sealed class LearnedRoundingProgress
{
    /// <summary>Creates a progress report.</summary>
    /// <param name="layer">The 1-based weight matrix just quantized.</param>
    /// <param name="layers">The number of weight matrices.</param>
    /// <param name="nearestError">The matrix's output error with nearest rounding at the chosen steps, on the calibration rows.</param>
    /// <param name="error">The output error of the codes kept (learned, or nearest), on the calibration rows.</param>
    /// <param name="seconds">The time this matrix took.</param>
    public LearnedRoundingProgress(int layer, int layers, double nearestError, double error, double seconds)
    {
        (Layer, Layers, NearestError, Error, Seconds) = (layer, layers, nearestError, error, seconds);
    }

    /// <summary>Gets the 1-based weight matrix just quantized.</summary>
    public int Layer { get; }

    /// <summary>Gets the number of weight matrices.</summary>
    public int Layers { get; }

    /// <summary>
    /// Gets the output error of the matrix with nearest rounding at the chosen steps: the mean over calibration rows (and
    /// positions, for a convolution block) of the squared distance between its quantized output and the float network's.
    /// For a multiclass network's output layer the distance is taken after subtracting each row's mean difference over
    /// the classes: softmax, and so the class, does not change when every logit of a row moves by the same amount.
    /// </summary>
    public double NearestError { get; }

    /// <summary>Gets the same output error for the codes kept (<see cref="NearestError"/> under nearest rounding).</summary>
    public double Error { get; }

    /// <summary>Gets the time this matrix took: its steps, rounding and activation step, in seconds.</summary>
    public double Seconds { get; }

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"layer {Layer}/{Layers}: output error {Error:G4} (nearest {NearestError:G4}), {Seconds:0.0} s");
}
