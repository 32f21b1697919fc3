using static TorchSharp.torch;

namespace MlRounding.Ops;

/// <summary>The outcome of <see cref="GradientCheck.Run"/>.</summary>
public sealed class GradientCheckResult
{
    internal GradientCheckResult(double maxAbsoluteError, double maxRelativeError, long entries, IReadOnlyList<(double Analytic, double Numeric)> pairs)
    {
        (MaxAbsoluteError, MaxRelativeError, Entries, Pairs) = (maxAbsoluteError, maxRelativeError, entries, pairs);
    }

    /// <summary>Gets the largest |analytic - numeric| over all Jacobian entries.</summary>
    public double MaxAbsoluteError { get; }

    /// <summary>Gets the largest |analytic - numeric| / max(|numeric|, 1e-12) over entries where either is nonzero.</summary>
    public double MaxRelativeError { get; }

    /// <summary>Gets the number of Jacobian entries compared.</summary>
    public long Entries { get; }

    /// <summary>True when every entry satisfies |analytic - numeric| &lt;= atol + rtol |numeric| (as torch.autograd.gradcheck).</summary>
    /// <param name="absoluteTolerance">atol.</param>
    /// <param name="relativeTolerance">rtol.</param>
    /// <returns>Whether the check passed.</returns>
    public bool Passed(double absoluteTolerance, double relativeTolerance) =>
        Pairs.All(p => Math.Abs(p.Analytic - p.Numeric) <= absoluteTolerance + relativeTolerance * Math.Abs(p.Numeric));

    /// <summary>Gets every compared Jacobian entry: autograd's value and the finite-difference value.</summary>
    internal IReadOnlyList<(double Analytic, double Numeric)> Pairs { get; }

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"{Entries} entries, largest error {MaxAbsoluteError:G6} absolute, {MaxRelativeError:G6} relative");
}

/// <summary>
/// Compares an op's autograd Jacobian with central finite differences of its forward (or of a reference function)
/// in float64, like <c>torch.autograd.gradcheck</c>.
/// </summary>
/// <remarks>
/// A rounding op's forward is a staircase whose true derivative is zero; to check its surrogate gradient pass the
/// estimator's <see cref="RoundingGradient.Surrogate"/> as <c>reference</c>: the backward must equal the
/// derivative of that smooth function.
/// </remarks>
public static class GradientCheck
{
    /// <summary>Largest input accepted: the full Jacobian is formed.</summary>
    public const long MaxElements = 4096;

    /// <summary>Runs the check.</summary>
    /// <param name="op">The op under test; its backward gives the analytic Jacobian.</param>
    /// <param name="input">The point, any shape, at most 4096 elements; it is copied to float64.</param>
    /// <param name="reference">Function whose finite differences give the numeric Jacobian; null means <paramref name="op"/>.</param>
    /// <param name="epsilon">Half-step of the central difference, in (0, 1].</param>
    /// <returns>The worst absolute and relative errors.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="input"/> is too large or <paramref name="epsilon"/> out of range.</exception>
    public static GradientCheckResult Run(Func<Tensor, Tensor> op, Tensor input, Func<Tensor, Tensor>? reference = null, double epsilon = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(input);
        Check.Positive(epsilon, 1, nameof(epsilon));
        if (input.numel() > MaxElements)
        {
            throw new ArgumentOutOfRangeException(nameof(input), input.numel(), $"input must have at most {MaxElements} elements.");
        }

        reference ??= op;
        using var scope = NewDisposeScope();
        Tensor x0 = input.detach().to_type(ScalarType.Float64).contiguous().flatten();
        double[,] analytic = Analytic(op, x0, input.shape);
        double[,] numeric = Numeric(reference, x0, input.shape, analytic.GetLength(0), epsilon);
        return Compare(analytic, numeric);
    }

    /// <summary>The Jacobian from the op's backward pass, one output element at a time (rows: outputs, columns: inputs).</summary>
    private static double[,] Analytic(Func<Tensor, Tensor> op, Tensor x0, long[] shape)
    {
        long n = x0.numel();
        Tensor x = x0.clone().requires_grad_(true);
        Tensor y = op(x.reshape(shape)).flatten();
        long m = y.numel();
        var analytic = new double[m, n];
        for (long j = 0; j < m; j++)
        {
            Tensor seed = zeros(m, ScalarType.Float64);
            seed[j] = 1.0;
            var grads = autograd.grad(new[] { y }, new[] { x }, new[] { seed }, retain_graph: true, allow_unused: true);
            if (grads[0] is Tensor g && !g.IsInvalid)
            {
                double[] row = g.data<double>().ToArray();
                for (long i = 0; i < n; i++)
                {
                    analytic[j, i] = row[i];
                }
            }
        }

        return analytic;
    }

    /// <summary>The Jacobian by central differences of <paramref name="reference"/>, one input element at a time.</summary>
    private static double[,] Numeric(Func<Tensor, Tensor> reference, Tensor x0, long[] shape, long m, double epsilon)
    {
        long n = x0.numel();
        var numeric = new double[m, n];
        using var noGrad = no_grad();
        for (long i = 0; i < n; i++)
        {
            Tensor plus = x0.clone();
            Tensor minus = x0.clone();
            plus[i] = x0[i].item<double>() + epsilon;
            minus[i] = x0[i].item<double>() - epsilon;
            double[] fp = reference(plus.reshape(shape)).flatten().data<double>().ToArray();
            double[] fm = reference(minus.reshape(shape)).flatten().data<double>().ToArray();
            for (long j = 0; j < m; j++)
            {
                numeric[j, i] = (fp[j] - fm[j]) / (2 * epsilon);
            }
        }

        return numeric;
    }

    /// <summary>The worst absolute and relative differences (NaN counts as infinitely wrong) and every pair.</summary>
    private static GradientCheckResult Compare(double[,] analytic, double[,] numeric)
    {
        long m = analytic.GetLength(0), n = analytic.GetLength(1);
        double maxAbs = 0, maxRel = 0;
        var pairs = new (double, double)[m * n];
        for (long j = 0; j < m; j++)
        {
            for (long i = 0; i < n; i++)
            {
                pairs[j * n + i] = (analytic[j, i], numeric[j, i]);
                double diff = Math.Abs(analytic[j, i] - numeric[j, i]);
                if (double.IsNaN(diff))
                {
                    diff = double.PositiveInfinity;
                }

                maxAbs = Math.Max(maxAbs, diff);
                if (diff > 0)
                {
                    maxRel = Math.Max(maxRel, diff / Math.Max(Math.Abs(numeric[j, i]), 1e-12));
                }
            }
        }

        return new GradientCheckResult(maxAbs, maxRel, m * n, pairs);
    }
}
