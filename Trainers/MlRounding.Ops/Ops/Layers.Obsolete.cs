using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>The 1.0 name of <see cref="Modules"/>: the same factories (a TorchSharp module is not a layer of the network).</summary>
    [Obsolete("Renamed Rounding.Modules: these factories make TorchSharp modules.")]
    public static class Layers
    {
        /// <summary>See <see cref="Modules.FakeQuantize"/>.</summary>
        /// <param name="scale">See <see cref="Modules.FakeQuantize"/>.</param>
        /// <param name="zeroPoint">See <see cref="Modules.FakeQuantize"/>.</param>
        /// <param name="range">See <see cref="Modules.FakeQuantize"/>.</param>
        /// <returns>The module.</returns>
        public static FakeQuantizeModule FakeQuantize(double scale, long zeroPoint, QuantizationRange range) => Modules.FakeQuantize(scale, zeroPoint, range);

        /// <summary>See <see cref="Modules.FakeQuantizePerChannel"/>.</summary>
        /// <param name="scales">See <see cref="Modules.FakeQuantizePerChannel"/>.</param>
        /// <param name="zeroPoints">See <see cref="Modules.FakeQuantizePerChannel"/>.</param>
        /// <param name="axis">See <see cref="Modules.FakeQuantizePerChannel"/>.</param>
        /// <param name="range">See <see cref="Modules.FakeQuantizePerChannel"/>.</param>
        /// <returns>The module.</returns>
        public static FakeQuantizePerChannelModule FakeQuantizePerChannel(Tensor scales, Tensor zeroPoints, long axis, QuantizationRange range) => Modules.FakeQuantizePerChannel(scales, zeroPoints, axis, range);

        /// <summary>See <see cref="Modules.FiniteDifference"/>.</summary>
        /// <param name="h">See <see cref="Modules.FiniteDifference"/>.</param>
        /// <returns>The module.</returns>
        public static FiniteDifferenceModule FiniteDifference(double h) => Modules.FiniteDifference(h);

        /// <summary>See <see cref="Modules.LearnedStepSize"/>.</summary>
        /// <param name="range">See <see cref="Modules.LearnedStepSize"/>.</param>
        /// <param name="channels">See <see cref="Modules.LearnedStepSize"/>.</param>
        /// <param name="axis">See <see cref="Modules.LearnedStepSize"/>.</param>
        /// <param name="learnZeroPoint">See <see cref="Modules.LearnedStepSize"/>.</param>
        /// <param name="useGradientScale">See <see cref="Modules.LearnedStepSize"/>.</param>
        /// <returns>The module.</returns>
        public static LearnedStepSizeModule LearnedStepSize(QuantizationRange range, long? channels = null, long axis = 0, bool learnZeroPoint = false, bool useGradientScale = true) => Modules.LearnedStepSize(range, channels, axis, learnZeroPoint, useGradientScale);

        /// <summary>See <see cref="Modules.Noise"/>.</summary>
        /// <param name="seed">See <see cref="Modules.Noise"/>.</param>
        /// <returns>The module.</returns>
        public static NoiseModule Noise(long? seed = null) => Modules.Noise(seed);

        /// <summary>See <see cref="Modules.RoundDecimals"/>.</summary>
        /// <param name="decimals">See <see cref="Modules.RoundDecimals"/>.</param>
        /// <param name="midpoint">See <see cref="Modules.RoundDecimals"/>.</param>
        /// <param name="gradient">See <see cref="Modules.RoundDecimals"/>.</param>
        /// <returns>The module.</returns>
        public static RoundDecimalsModule RoundDecimals(int decimals, MidpointRounding midpoint = MidpointRounding.ToEven, RoundingGradient? gradient = null) => Modules.RoundDecimals(decimals, midpoint, gradient);

        /// <summary>See <see cref="Modules.RoundToStep"/>.</summary>
        /// <param name="step">See <see cref="Modules.RoundToStep"/>.</param>
        /// <param name="offset">See <see cref="Modules.RoundToStep"/>.</param>
        /// <param name="midpoint">See <see cref="Modules.RoundToStep"/>.</param>
        /// <param name="gradient">See <see cref="Modules.RoundToStep"/>.</param>
        /// <returns>The module.</returns>
        public static RoundToStepModule RoundToStep(double step, double offset = 0, MidpointRounding midpoint = MidpointRounding.ToEven, RoundingGradient? gradient = null) => Modules.RoundToStep(step, offset, midpoint, gradient);

        /// <summary>See <see cref="Modules.Sigmoid"/>.</summary>
        /// <param name="k">See <see cref="Modules.Sigmoid"/>.</param>
        /// <param name="hard">See <see cref="Modules.Sigmoid"/>.</param>
        /// <returns>The module.</returns>
        public static SigmoidModule Sigmoid(double k, bool hard = false) => Modules.Sigmoid(k, hard);

        /// <summary>See <see cref="Modules.SoftRound"/>.</summary>
        /// <param name="alpha">See <see cref="Modules.SoftRound"/>.</param>
        /// <returns>The module.</returns>
        public static SoftRoundModule SoftRound(double alpha) => Modules.SoftRound(alpha);

        /// <summary>See <see cref="Modules.Softmax"/>.</summary>
        /// <param name="beta">See <see cref="Modules.Softmax"/>.</param>
        /// <param name="hard">See <see cref="Modules.Softmax"/>.</param>
        /// <returns>The module.</returns>
        public static SoftmaxModule Softmax(double beta, bool hard = false) => Modules.Softmax(beta, hard);

        /// <summary>See <see cref="Modules.StraightThrough"/>.</summary>
        /// <returns>The module.</returns>
        public static StraightThroughModule StraightThrough() => Modules.StraightThrough();

        /// <summary>See <see cref="Modules.StraightThroughClipped"/>.</summary>
        /// <param name="min">See <see cref="Modules.StraightThroughClipped"/>.</param>
        /// <param name="max">See <see cref="Modules.StraightThroughClipped"/>.</param>
        /// <returns>The module.</returns>
        public static StraightThroughClippedModule StraightThroughClipped(double min, double max) => Modules.StraightThroughClipped(min, max);
    }
}
