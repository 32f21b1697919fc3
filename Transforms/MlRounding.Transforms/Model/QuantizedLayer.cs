using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace MlRounding;

/// <summary>
/// One fully connected layer of a trained model, immutable: integer weight codes and their steps (per output neuron or
/// one), or float weights; float biases; and, for a hidden layer, the activation grid that follows its ReLU.
/// </summary>
/// <remarks>
/// The weight of output j and input k is <c>WeightCodes[j · Inputs + k] · WeightSteps[j]</c> (or <c>WeightSteps[0]</c>
/// for a per-layer step). Codes of a b-bit layer (b = 2..8) lie on the symmetric grid [-(2^(b-1) - 1), 2^(b-1) - 1];
/// 1-bit codes are -1 or +1. A hidden layer's output is y = max(x W^T + bias, 0), then, when
/// <see cref="ActivationBits"/> is not 32, the codes clamp(round(y / ActivationStep), 0, 2^ActivationBits - 1).
/// </remarks>
public sealed class QuantizedLayer
{
    private readonly int[] _codes;
    private readonly float[] _floatWeights;
    private readonly float[] _steps;
    private readonly float[] _bias;
    private byte[]? _packed;

    /// <summary>Creates a layer with integer weight codes.</summary>
    /// <param name="inputs">Number of inputs, 1 to 2^20.</param>
    /// <param name="outputs">Number of outputs, 1 to 2^20 (inputs · outputs at most 2^28).</param>
    /// <param name="weightBits">Bits per weight code: 1 (codes ±1) or 2..8 (symmetric codes, see remarks).</param>
    /// <param name="weightCodes">inputs · outputs codes, row-major (output, input).</param>
    /// <param name="weightSteps">One positive, finite step per output, or one for the whole layer.</param>
    /// <param name="bias">One finite bias per output.</param>
    /// <param name="activationBits">Bits of the activation codes after the ReLU (2..16), or 32 for a float activation (and for the output layer).</param>
    /// <param name="activationStep">The activation step, positive and finite when <paramref name="activationBits"/> is not 32.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size, bit width, code or step is out of its range.</exception>
    /// <exception cref="ArgumentException">An array has the wrong length.</exception>
    public QuantizedLayer(int inputs, int outputs, int weightBits, ReadOnlySpan<int> weightCodes, ReadOnlySpan<float> weightSteps, ReadOnlySpan<float> bias, int activationBits = 32, float activationStep = 1)
        : this(inputs, outputs, weightBits, weightCodes.ToArray(), Array.Empty<float>(), weightSteps.ToArray(), bias.ToArray(), activationBits, activationStep)
    {
    }

    /// <summary>Creates a layer with float weights (<see cref="WeightBits"/> 32).</summary>
    /// <param name="inputs">Number of inputs, 1 to 2^20.</param>
    /// <param name="outputs">Number of outputs, 1 to 2^20 (inputs · outputs at most 2^28).</param>
    /// <param name="weights">inputs · outputs finite weights, row-major (output, input).</param>
    /// <param name="bias">One finite bias per output.</param>
    /// <param name="activationBits">Bits of the activation codes after the ReLU (2..16), or 32 for a float activation (and for the output layer).</param>
    /// <param name="activationStep">The activation step, positive and finite when <paramref name="activationBits"/> is not 32.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size, weight or step is out of its range.</exception>
    /// <exception cref="ArgumentException">An array has the wrong length.</exception>
    public QuantizedLayer(int inputs, int outputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int activationBits = 32, float activationStep = 1)
        : this(inputs, outputs, 32, Array.Empty<int>(), weights.ToArray(), new[] { 1f }, bias.ToArray(), activationBits, activationStep)
    {
    }

    private QuantizedLayer(int inputs, int outputs, int weightBits, int[] codes, float[] floatWeights, float[] steps, float[] bias, int activationBits, float activationStep)
    {
        long weights = CheckShape(inputs, outputs, weightBits);
        CheckActivation(activationBits, activationStep);
        if (bias.Length != outputs)
        {
            throw new ArgumentException($"bias has {bias.Length} values, expected {outputs} (one per output).", nameof(bias));
        }

        if (!AllFinite(bias))
        {
            throw new ArgumentOutOfRangeException(nameof(bias), "every bias must be finite.");
        }

        if (weightBits == 32)
        {
            CheckFloatWeights(floatWeights, weights);
        }
        else
        {
            CheckCodes(codes, weights, weightBits);
            CheckSteps(steps, outputs);
        }

        Inputs = inputs;
        Outputs = outputs;
        WeightBits = weightBits;
        _codes = codes;
        _floatWeights = floatWeights;
        _steps = steps;
        _bias = bias;
        ActivationBits = activationBits;
        ActivationStep = activationBits == 32 ? 1 : activationStep;
        ActivationMax = activationBits == 32 ? 0 : (1L << activationBits) - 1;
    }

    /// <summary>Checks the sizes and the weight bits; returns the number of weights.</summary>
    private static long CheckShape(int inputs, int outputs, int weightBits)
    {
        if (inputs < 1 || inputs > MaxUnits)
        {
            throw new ArgumentOutOfRangeException(nameof(inputs), inputs, $"inputs must be in [1, {MaxUnits}].");
        }

        if (outputs < 1 || outputs > MaxUnits)
        {
            throw new ArgumentOutOfRangeException(nameof(outputs), outputs, $"outputs must be in [1, {MaxUnits}].");
        }

        long weights = (long)inputs * outputs;
        if (weights > MaxWeights)
        {
            throw new ArgumentOutOfRangeException(nameof(outputs), outputs, $"inputs · outputs ({weights}) must be at most 2^28.");
        }

        if (!(weightBits is 1 or 32 || weightBits is >= 2 and <= 8))
        {
            throw new ArgumentOutOfRangeException(nameof(weightBits), weightBits, "weightBits must be 1, 2..8 or 32.");
        }

        return weights;
    }

    private static void CheckActivation(int activationBits, float activationStep)
    {
        if (!(activationBits == 32 || activationBits is >= 2 and <= 16))
        {
            throw new ArgumentOutOfRangeException(nameof(activationBits), activationBits, "activationBits must be 2..16 or 32.");
        }

        if (activationBits != 32 && !(activationStep > 0 && float.IsFinite(activationStep)))
        {
            throw new ArgumentOutOfRangeException(nameof(activationStep), activationStep, "activationStep must be positive and finite.");
        }
    }

    private static void CheckFloatWeights(float[] floatWeights, long weights)
    {
        if (floatWeights.Length != weights)
        {
            throw new ArgumentException($"weights has {floatWeights.Length} values, expected {weights} (inputs · outputs).", "weights");
        }

        if (!AllFinite(floatWeights))
        {
            throw new ArgumentOutOfRangeException("weights", "every weight must be finite.");
        }
    }

    private static void CheckCodes(int[] codes, long weights, int weightBits)
    {
        if (codes.Length != weights)
        {
            throw new ArgumentException($"weightCodes has {codes.Length} values, expected {weights} (inputs · outputs).", "weightCodes");
        }

        long max = CodeMax(weightBits);
        foreach (int c in codes)
        {
            if (c < -max || c > max || (weightBits == 1 && c == 0))
            {
                throw new ArgumentOutOfRangeException("weightCodes", c, weightBits == 1 ? "1-bit codes must be -1 or +1." : $"{weightBits}-bit codes must be in [{-max}, {max}].");
            }
        }
    }

    private static void CheckSteps(float[] steps, int outputs)
    {
        if (steps.Length != 1 && steps.Length != outputs)
        {
            throw new ArgumentException($"weightSteps has {steps.Length} values, expected 1 or {outputs} (one per output).", "weightSteps");
        }

        foreach (float s in steps)
        {
            if (!(s > 0 && float.IsFinite(s)))
            {
                throw new ArgumentOutOfRangeException("weightSteps", s, "every weight step must be positive and finite.");
            }
        }
    }

    internal const int MaxUnits = 1 << 20;
    internal const long MaxWeights = 1L << 28;

    /// <summary>Gets the number of inputs.</summary>
    public int Inputs { get; }

    /// <summary>Gets the number of outputs.</summary>
    public int Outputs { get; }

    /// <summary>Gets the bits per weight: 1 (codes ±1), 2..8, or 32 (float weights).</summary>
    public int WeightBits { get; }

    /// <summary>Gets the integer weight codes, row-major (output, input); empty for float weights.</summary>
    public ImmutableArray<int> WeightCodes => ImmutableCollectionsMarshal.AsImmutableArray(_codes);

    /// <summary>Gets the float weights, row-major (output, input), of a 32-bit layer; empty otherwise.</summary>
    public ImmutableArray<float> FloatWeights => ImmutableCollectionsMarshal.AsImmutableArray(_floatWeights);

    /// <summary>Gets the weight steps: one per output or one for the layer (1 for float weights).</summary>
    public ImmutableArray<float> WeightSteps => ImmutableCollectionsMarshal.AsImmutableArray(_steps);

    /// <summary>Gets the biases, one per output.</summary>
    public ImmutableArray<float> Bias => ImmutableCollectionsMarshal.AsImmutableArray(_bias);

    /// <summary>Gets the bits of the activation codes after this layer's ReLU, or 32 when the activation stays float (and for the output layer).</summary>
    public int ActivationBits { get; }

    /// <summary>Gets the step of the activation codes (1 when the activation is float).</summary>
    public float ActivationStep { get; }

    /// <summary>Gets the largest activation code, 2^ActivationBits - 1 (the smallest is 0), or 0 when the activation is float.</summary>
    public long ActivationMax { get; }

    /// <summary>Gets a value indicating whether the weights are float (<see cref="WeightBits"/> 32).</summary>
    public bool HasFloatWeights => WeightBits == 32;

    /// <summary>Gets the bytes of this layer's parameters as stored: packed codes or float weights, steps, biases, activation step.</summary>
    public long ParameterBytes => (HasFloatWeights ? _floatWeights.Length * 4L : PackedWeights.Length) + _steps.Length * 4L + _bias.Length * 4L + (ActivationBits == 32 ? 0 : 4);

    /// <summary>The codes, for the scorer (never written to).</summary>
    internal int[] Codes => _codes;

    /// <summary>The float weights, for the scorer (never written to).</summary>
    internal float[] Weights => _floatWeights;

    /// <summary>The steps, for the scorer (never written to).</summary>
    internal float[] Steps => _steps;

    /// <summary>The biases, for the scorer (never written to).</summary>
    internal float[] Biases => _bias;

    /// <summary>The smallest code of the packed form: 0 for 1-bit codes (stored as 0/1) and float weights, else -(2^(b-1) - 1).</summary>
    internal long CodeMin => WeightBits is 1 or 32 ? 0 : -CodeMax(WeightBits);

    /// <summary>The codes packed at their bit width (see <see cref="PackedCodes"/>; 1-bit codes as 0 for -1, 1 for +1); built once.</summary>
    internal byte[] PackedWeights => _packed ??= HasFloatWeights ? Array.Empty<byte>()
        : WeightBits == 1 ? PackedCodes.Pack(_codes.Select(c => c > 0 ? 1 : 0).ToArray(), 1, 0)
        : PackedCodes.Pack(_codes, WeightBits, CodeMin);

    /// <summary>A layer from the packed form (<see cref="PackedWeights"/>), as the model format stores it.</summary>
    internal static QuantizedLayer FromPacked(int inputs, int outputs, int weightBits, ReadOnlySpan<byte> packed, float[] steps, float[] bias, int activationBits, float activationStep)
    {
        long min = weightBits == 1 ? 0 : -CodeMax(weightBits);
        int[] codes = PackedCodes.Unpack(packed, inputs * outputs, weightBits, min);
        if (weightBits == 1)
        {
            for (int i = 0; i < codes.Length; i++)
            {
                codes[i] = codes[i] == 0 ? -1 : 1;
            }
        }

        return new QuantizedLayer(inputs, outputs, weightBits, codes, Array.Empty<float>(), steps, bias, activationBits, activationStep);
    }

    /// <summary>A layer with float weights from arrays the caller hands over (no copy).</summary>
    internal static QuantizedLayer FromFloat(int inputs, int outputs, float[] weights, float[] bias, int activationBits, float activationStep) =>
        new(inputs, outputs, 32, Array.Empty<int>(), weights, new[] { 1f }, bias, activationBits, activationStep);

    /// <summary>The largest code magnitude of a b-bit layer: 1 for b = 1, else 2^(b-1) - 1.</summary>
    internal static long CodeMax(int weightBits) => weightBits == 1 ? 1 : (1L << (weightBits - 1)) - 1;

    /// <summary>The weights as float64 (codes, or float weights), for the float-input dot products; built once.</summary>
    internal double[] WeightsAsDouble => _weightsAsDouble ??= HasFloatWeights ? _floatWeights.Select(v => (double)v).ToArray() : _codes.Select(c => (double)c).ToArray();

    private double[]? _weightsAsDouble;

    /// <summary>Whether an int32 dot product of this layer's codes with codes up to <paramref name="codeMax"/> cannot overflow.</summary>
    internal bool Int32DotFits(long codeMax) => codeMax > 0 && (long)Inputs * CodeMax(WeightBits) * codeMax < int.MaxValue;

    private static bool AllFinite(float[] values)
    {
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
            {
                return false;
            }
        }

        return true;
    }
}
