using System.Numerics;
using MlRounding.Ops;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace MlRounding.Trainers;

/// <summary>
/// Learned rounding of one stage's weights (AdaRound, Nagel et al. 2020): each weight w, in code units v = w / s, becomes
/// the lattice point below it plus h(V), where h(V) = clamp(sigmoid(V) (ζ - γ) + γ, 0, 1) is the rectified sigmoid
/// (ζ = 1.1, γ = -0.1) of a learned V, started where h(V) equals v's fractional part (so the first pass is the unrounded
/// weights). Adam lowers the reconstruction error of the stage's output, E(W̃) = ‖f(W̃, x̃) - f(W, x)‖² per row, with x̃
/// the rows as the already-quantized stages before it give them and f(W, x) the float network's output (a multiclass
/// network's logits without each row's common shift, which softmax ignores: <see cref="ReconstructionStage.Error"/>); after the first
/// 20 % of the iterations the regularizer pushes every h(V) to 0 or 1, β annealed from 20 to 2. The objective is
/// E(W̃) / E_nearest + ρ · mean_k (1 - |2h(V_k) - 1|^β): the error relative to nearest rounding's, so that ρ means the same
/// on every layer (AdaRound's fixed λ Σ_k beside the raw error weighed the regularizer by the layer's size over its error:
/// 70 times the error on Fashion-MNIST's 784 x 256 layer, 0.06 times on its 128 x 10 output layer, where the rounding
/// stayed undecided and ended worse than nearest; W2A8 84.8 % before, 88.2 % after, mean of seeds 1-3). Finally each
/// weight rounds up where h(V) ≥ 1/2 (V ≥ 0), down otherwise. Each channel's step is learned alongside, as a factor of
/// the step <see cref="StepSearch"/> chose (measured on Fashion-MNIST, seed 1: W1A8 75.9 % with fixed steps, 82.1 % with
/// learned ones; learning the biases too lost 3-4 points).
/// </summary>
/// <remarks>
/// Only the stage's output goes through LibTorch (its matrix product or convolution and the loss, with autograd to the
/// relaxed weights W̃); the weight side (h(V), W̃, their gradients, the regularizer's gradient and Adam for V and the
/// step factors) is one pass of vectorized C# over the weights: the same arithmetic as the dozen TorchSharp ops it
/// replaces (PyTorch's Adam, bias-corrected, β = (0.9, 0.999), ε = 1e-8), at a third of their time on a 784 x 256 layer.
/// </remarks>
internal static class AdaRound
{
    private const float Zeta = 1.1f;
    private const float Gamma = -0.1f;
    private const double WarmStart = 0.2;
    private const double StartBeta = 20;
    private const double EndBeta = 2;

    /// <summary>
    /// The regularizer's weight ρ beside the relative error (measured on Fashion-MNIST W2A8 and W1A8, seeds 1-3 and 4-5:
    /// 10, 30 and 70 within noise of each other).
    /// </summary>
    internal const double RelativeRegularization = 30;

    /// <summary>Adam's learning rate for V and the log step factors.</summary>
    internal const double LearningRate = 0.01;

    /// <summary>
    /// The learned codes of <paramref name="weight"/> (outputs, inputs), starting from the per-row steps
    /// <paramref name="steps"/>, and the steps they go with: each row's step is learned with the rounding as a factor
    /// exp(t) of its starting step (the lattice points below and above each weight stay those of the starting step).
    /// <paramref name="nearestError"/> is E_nearest, the stage's output error under nearest rounding at the starting steps.
    /// </summary>
    public static (Tensor Codes, Tensor Steps) Learn(ReconstructionStage stage, Tensor weight, Tensor steps, CodeLattice lattice, Tensor inputs, Tensor target,
        double nearestError, int iterations, int batchSize, Generator generator, CancellationToken cancellation)
    {
        using var scope = NewDisposeScope();
        // E / E_nearest + ρ mean(reg) is E + (ρ E_nearest / N) Σ reg scaled by 1 / E_nearest, which Adam does not see.
        var relaxed = new RelaxedWeights(weight, steps, lattice, RelativeRegularization * nearestError / weight.numel());
        long rows = inputs.shape[0];
        int batch = (int)Math.Min(batchSize, rows);
        int warm = (int)(iterations * WarmStart);
        var shape = weight.shape;
        // W̃ and its gradient live from step to step (autograd accumulates into an existing gradient): new 0.8 MB buffers
        // each step cost glibc's heap trims and page faults, twice the weight side's arithmetic in a fresh process.
        using Tensor w = zeros(shape).requires_grad_(true);
        for (int i = 0; i < iterations; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var step = NewDisposeScope();
            Tensor picked = randint(0, rows, new long[] { batch }, generator: generator);
            relaxed.Forward(w);
            Tensor output = stage.Forward(inputs.index_select(0, picked), w);
            Tensor reconstruction = stage.Error(output, target.index_select(0, picked));
            reconstruction.backward();
            double beta = i < warm ? 0 : EndBeta + ((StartBeta - EndBeta) * (1 - ((double)(i - warm) / Math.Max(1, iterations - warm))));
            using (Tensor gradient = w.grad!)
            {
                relaxed.Step(gradient, beta);
                using var noGrad = no_grad();
                gradient.zero_();
            }
        }

        var (codes, learnedSteps) = relaxed.Final();
        return (tensor(codes).reshape(shape).MoveToOuterDisposeScope(), tensor(learnedSteps).MoveToOuterDisposeScope());
    }

    /// <summary>The learned variables V and t, their Adam state, and the pass from them to W̃ and back.</summary>
    private sealed class RelaxedWeights
    {
        private readonly CodeLattice _lattice;
        private readonly int _columns;
        private readonly float[] _below, _inside, _v, _vMean, _vSquare, _sigma, _h, _w, _power, _gradient;
        private readonly float[] _start, _t, _tMean, _tSquare, _stepNow;
        private readonly double _lambda;
        private int _updates;

        public RelaxedWeights(Tensor weight, Tensor steps, CodeLattice lattice, double lambda)
        {
            _lattice = lattice;
            _lambda = lambda;
            float[] w = weight.contiguous().data<float>().ToArray();
            _start = steps.contiguous().data<float>().ToArray();
            _columns = w.Length / _start.Length;
            int n = w.Length;
            (_below, _inside, _v, _vMean, _vSquare) = (new float[n], new float[n], new float[n], new float[n], new float[n]);
            (_sigma, _h, _w, _power, _gradient) = (new float[n], new float[n], new float[n], new float[n], new float[n]);
            (_t, _tMean, _tSquare, _stepNow) = (new float[_start.Length], new float[_start.Length], new float[_start.Length], new float[_start.Length]);
            for (int k = 0; k < n; k++)
            {
                float position = ((w[k] / _start[k / _columns]) - lattice.Min) / lattice.Spacing;
                float floor = MathF.Floor(position);
                _below[k] = (floor * lattice.Spacing) + lattice.Min;
                _inside[k] = _below[k] >= lattice.Min && _below[k] + lattice.Spacing <= lattice.Max ? 1 : 0; // both neighbours are codes
                float p = Math.Clamp((position - floor - Gamma) / (Zeta - Gamma), 0.01f, 0.99f);
                _v[k] = MathF.Log(p / (1 - p)); // h(V) = the fractional part
            }
        }

        /// <summary>W̃ = clamp(below + spacing · h(V), min, max) · s exp(t), written into <paramref name="into"/> (contiguous float32).</summary>
        public void Forward(Tensor into)
        {
            RefreshSteps();
            TensorPrimitives.Sigmoid(_v, _sigma);
            TensorPrimitives.Multiply(_sigma, Zeta - Gamma, _h);
            TensorPrimitives.Add(_h, Gamma, _h);
            TensorPrimitives.Max(_h, 0f, _h);
            TensorPrimitives.Min(_h, 1f, _h);
            TensorPrimitives.MultiplyAdd(_h, _lattice.Spacing, _below, _w);
            TensorPrimitives.Max(_w, _lattice.Min, _w);
            TensorPrimitives.Min(_w, _lattice.Max, _w); // the relaxed codes
            for (int j = 0; j < _t.Length; j++)
            {
                Span<float> row = _w.AsSpan(j * _columns, _columns);
                TensorPrimitives.Multiply(row, _stepNow[j], row);
            }

            _w.CopyTo(MemoryMarshal.Cast<byte, float>(into.bytes));
        }

        /// <summary>
        /// One Adam update from the reconstruction's gradient <paramref name="gradient"/> with respect to W̃, plus the
        /// regularizer λ Σ (1 - |2h - 1|^β), λ = ρ E_nearest / N, when <paramref name="beta"/> is not 0: dW̃/dt = W̃ per row; dW̃/dV = s exp(t) ·
        /// spacing · 1.2 σ(1 - σ) where h is strictly between 0 and 1 and both lattice neighbours of the weight are codes
        /// (a weight beyond the grid's ends stays at its end); d reg/dh = -2 λ β |2h - 1|^(β-1) sign(2h - 1).
        /// </summary>
        public void Step(Tensor gradient, double beta)
        {
            ReadOnlySpan<float> g = MemoryMarshal.Cast<byte, float>(gradient.bytes);
            _updates++;
            if (beta > 0)
            {
                TensorPrimitives.Multiply(_h, 2f, _power);
                TensorPrimitives.Add(_power, -1f, _power);
                TensorPrimitives.Abs(_power, _power);
                TensorPrimitives.Log(_power, _power);
                TensorPrimitives.Multiply(_power, (float)(beta - 1), _power);
                TensorPrimitives.Max(_power, -60f, _power); // no subnormal powers (~100x slower arithmetic); e^-60 is as good as 0 here
                TensorPrimitives.Exp(_power, _power); // |2h - 1|^(β-1)
            }

            float regularizer = (float)(-2 * _lambda * beta);
            var adam = new Adam(LearningRate, _updates);
            g.CopyTo(_gradient); // reused: a new 0.8 MB array per step kept the large-object heap collecting
            Parallel.For(0, _t.Length, j => Row(j, _gradient, regularizer, adam));
        }

        /// <summary>The update of row <paramref name="j"/>'s V and t (rows are independent: the rows of a layer run in parallel).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a hot vector loop from its first call: no tier-0 code
        private void Row(int j, float[] gradients, float regularizer, Adam adam)
        {
            int first = j * _columns;
            ReadOnlySpan<float> g = gradients.AsSpan(first, _columns);
            Span<float> v = _v.AsSpan(first, _columns), mean = _vMean.AsSpan(first, _columns), square = _vSquare.AsSpan(first, _columns);
            ReadOnlySpan<float> sigma = _sigma.AsSpan(first, _columns), h = _h.AsSpan(first, _columns), w = _w.AsSpan(first, _columns);
            ReadOnlySpan<float> inside = _inside.AsSpan(first, _columns), power = _power.AsSpan(first, _columns);
            float scale = _stepNow[j] * _lattice.Spacing;
            double dt = TensorPrimitives.Dot(g, w); // dW̃/dt = W̃
            int k = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var zero = Vector<float>.Zero;
                var one = Vector<float>.One;
                var tiny = new Vector<float>(1e-30f);
                for (; k <= _columns - Vector<float>.Count; k += Vector<float>.Count)
                {
                    var s = new Vector<float>(sigma[k..]);
                    var hk = new Vector<float>(h[k..]);
                    var dh = new Vector<float>(g[k..]) * scale * new Vector<float>(inside[k..]);
                    if (regularizer != 0)
                    {
                        var centred = (hk * 2f) - one;
                        var sign = Vector.ConditionalSelect(Vector.GreaterThan(centred, zero), one, Vector.ConditionalSelect(Vector.LessThan(centred, zero), -one, zero));
                        dh += new Vector<float>(power[k..]) * sign * regularizer;
                    }

                    var open = Vector.BitwiseAnd(Vector.GreaterThan(hk, zero), Vector.LessThan(hk, one));
                    var dv = Vector.ConditionalSelect(open, dh * (Zeta - Gamma) * s * (one - s), zero);
                    var m = (new Vector<float>(mean[k..]) * 0.9f) + (dv * 0.1f);
                    var q = (new Vector<float>(square[k..]) * 0.999f) + (dv * dv * 0.001f);
                    m = Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(m), tiny), zero, m); // no subnormal moments: they are
                    q = Vector.ConditionalSelect(Vector.LessThan(q, tiny), zero, q);               // ~100x slower and change nothing
                    m.CopyTo(mean[k..]);
                    q.CopyTo(square[k..]);
                    (new Vector<float>(v[k..]) - (m * adam.Rate / ((Vector.SquareRoot(q) / adam.SecondCorrection) + new Vector<float>(1e-8f)))).CopyTo(v[k..]);
                }
            }

            for (; k < _columns; k++)
            {
                float dh = g[k] * scale * inside[k];
                if (regularizer != 0)
                {
                    dh += regularizer * power[k] * MathF.Sign((2 * h[k]) - 1);
                }

                float dv = h[k] > 0 && h[k] < 1 ? dh * (Zeta - Gamma) * sigma[k] * (1 - sigma[k]) : 0;
                adam.Update(ref v[k], ref mean[k], ref square[k], dv);
            }

            adam.Update(ref _t[j], ref _tMean[j], ref _tSquare[j], (float)dt);
        }

        /// <summary>The codes (the code below each weight, plus one lattice spacing where V ≥ 0) and the steps s exp(t).</summary>
        public (float[] Codes, float[] Steps) Final()
        {
            var codes = new float[_v.Length];
            for (int k = 0; k < codes.Length; k++)
            {
                codes[k] = Math.Clamp(_below[k] + (_v[k] >= 0 ? _lattice.Spacing : 0), _lattice.Min, _lattice.Max);
            }

            RefreshSteps();
            return (codes, (float[])_stepNow.Clone());
        }

        // The steps s exp(t) of the current t.
        private void RefreshSteps()
        {
            for (int j = 0; j < _t.Length; j++)
            {
                _stepNow[j] = _start[j] * MathF.Exp(_t[j]);
            }
        }
    }

    /// <summary>PyTorch's Adam update for one parameter (β1 0.9, β2 0.999, ε 1e-8, bias-corrected, no weight decay).</summary>
    private readonly struct Adam(double rate, int updates)
    {
        /// <summary>Gets the learning rate over the first moment's bias correction.</summary>
        public float Rate { get; } = (float)(rate / (1 - Math.Pow(0.9, updates)));

        /// <summary>Gets the square root of the second moment's bias correction.</summary>
        public float SecondCorrection { get; } = (float)Math.Sqrt(1 - Math.Pow(0.999, updates));

        public void Update(ref float parameter, ref float mean, ref float square, float gradient)
        {
            mean = (0.9f * mean) + (0.1f * gradient);
            square = (0.999f * square) + (0.001f * gradient * gradient);
            mean = MathF.Abs(mean) < 1e-30f ? 0 : mean; // as the vector loop
            square = square < 1e-30f ? 0 : square;
            parameter -= Rate * mean / ((MathF.Sqrt(square) / SecondCorrection) + 1e-8f);
        }
    }
}
