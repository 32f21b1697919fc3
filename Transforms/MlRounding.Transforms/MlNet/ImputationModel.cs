namespace MlRounding;

/// <summary>
/// The fitted parameters of <see cref="MissingValueImputingTransformer"/> and the one implementation of its arithmetic.
/// A slot's missing value (NaN) becomes its intercept plus a linear function of the row's other slots, each centered at
/// its training mean: <c>x[j] = intercepts[j] + Σₖ w[j,k] (x[k] - means[k])</c>, where a predictor that is not finite
/// (NaN or ±∞) counts as its mean (adds 0). A slot without a regression (no gap in training, or too many slots) has no
/// weights, and its intercept is its training mean. Present values, infinities included, pass unchanged.
/// </summary>
internal sealed class ImputationModel
{
    private readonly int[] _rowOfSlot;

    /// <summary>Creates the model; <paramref name="weights"/> holds one row of <c>means.Length</c> weights per regressed slot, 0 at the slot itself.</summary>
    /// <exception cref="ArgumentException">The lengths do not agree, a regressed slot is out of range or repeated, or a value is not finite.</exception>
    public ImputationModel(float[] means, float[] intercepts, int[] regressedSlots, float[] weights)
    {
        int p = means.Length;
        if (p == 0 || intercepts.Length != p || (long)regressedSlots.Length * p != weights.Length)
        {
            throw new ArgumentException($"An imputation over {p} slots needs {p} intercepts and {regressedSlots.Length} x {p} weights; got {intercepts.Length} and {weights.Length}.");
        }

        if (!means.All(float.IsFinite) || !intercepts.All(float.IsFinite) || !weights.All(float.IsFinite))
        {
            throw new ArgumentException("The means, intercepts and weights of an imputation must be finite.");
        }

        _rowOfSlot = Enumerable.Repeat(-1, p).ToArray();
        for (int r = 0; r < regressedSlots.Length; r++)
        {
            int slot = regressedSlots[r];
            if (slot < 0 || slot >= p || _rowOfSlot[slot] >= 0)
            {
                throw new ArgumentException($"Regressed slot {slot} is out of range [0, {p}) or repeated.");
            }

            _rowOfSlot[slot] = r;
        }

        (Means, Intercepts, RegressedSlots, Weights) = (means, intercepts, regressedSlots, weights);
    }

    /// <summary>Gets each slot's training mean (the centre of a predictor; 0 for a slot with no finite value in training).</summary>
    public float[] Means { get; }

    /// <summary>Gets each slot's intercept: the value a missing cell takes when every other slot is at its mean.</summary>
    public float[] Intercepts { get; }

    /// <summary>Gets the slots imputed by regression, in increasing order.</summary>
    public int[] RegressedSlots { get; }

    /// <summary>Gets the weights, one row of <see cref="SlotCount"/> per regressed slot.</summary>
    public float[] Weights { get; }

    /// <summary>Gets the number of slots.</summary>
    public int SlotCount => Means.Length;

    /// <summary>Writes <paramref name="x"/> to <paramref name="destination"/> (not overlapping it) with each NaN imputed from the row's values as they were.</summary>
    public void Impute(ReadOnlySpan<float> x, Span<float> destination)
    {
        x.CopyTo(destination);
        if (!HasNaN(x))
        {
            return;
        }

        for (int j = 0; j < x.Length; j++)
        {
            if (float.IsNaN(x[j]))
            {
                destination[j] = Value(x, j);
            }
        }
    }

    /// <summary>Whether <paramref name="x"/> holds a NaN: a row without one has a sum that is not NaN (one vectorized pass); only +∞ with -∞ makes it scan.</summary>
    private static bool HasNaN(ReadOnlySpan<float> x)
    {
        if (!float.IsNaN(System.Numerics.Tensors.TensorPrimitives.Sum(x)))
        {
            return false;
        }

        foreach (float v in x)
        {
            if (float.IsNaN(v))
            {
                return true;
            }
        }

        return false;
    }

    private float Value(ReadOnlySpan<float> x, int slot)
    {
        int r = _rowOfSlot[slot];
        if (r < 0)
        {
            return Intercepts[slot];
        }

        ReadOnlySpan<float> w = Weights.AsSpan(r * SlotCount, SlotCount);
        double sum = Intercepts[slot];
        for (int k = 0; k < w.Length; k++)
        {
            if (float.IsFinite(x[k]))
            {
                sum += w[k] * (double)(x[k] - Means[k]);
            }
        }

        return (float)sum;
    }
}
