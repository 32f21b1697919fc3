namespace MlRounding.Trainers;

/// <summary>
/// One fully connected layer of a trained model: integer weight codes (packed), their steps (per output neuron or one),
/// float biases, and for hidden layers the activation grid that follows the ReLU.
/// </summary>
public sealed class QuantizedLayer
{
    internal QuantizedLayer(int inputs, int outputs, int weightBits, long codeMin, byte[] packedWeights, float[]? floatWeights,
        float[] weightSteps, float[] bias, int activationBits, float activationStep, long activationMax)
    {
        Inputs = inputs;
        Outputs = outputs;
        WeightBits = weightBits;
        CodeMin = codeMin;
        PackedWeights = packedWeights;
        FloatWeights = floatWeights;
        WeightSteps = weightSteps;
        Bias = bias;
        ActivationBits = activationBits;
        ActivationStep = activationStep;
        ActivationMax = activationMax;
        Codes = floatWeights is null ? PackedCodes.Unpack(packedWeights, inputs * outputs, weightBits == 1 ? 1 : weightBits, codeMin) : Array.Empty<int>();
        if (weightBits == 1)
        {
            for (int i = 0; i < Codes.Length; i++)
            {
                Codes[i] = Codes[i] == 0 ? -1 : 1; // stored as 0/1, meaning -1/+1
            }
        }
    }

    /// <summary>Gets the number of inputs.</summary>
    public int Inputs { get; }

    /// <summary>Gets the number of outputs.</summary>
    public int Outputs { get; }

    /// <summary>Gets the bits per weight: 1 (±step), 2..8, or 32 (float weights).</summary>
    public int WeightBits { get; }

    /// <summary>Gets the smallest weight code.</summary>
    public long CodeMin { get; }

    /// <summary>Gets the packed weight codes, row-major (output, input); empty for float weights.</summary>
    public byte[] PackedWeights { get; }

    /// <summary>Gets the float weights (32-bit layers only).</summary>
    public float[]? FloatWeights { get; }

    /// <summary>Gets the weight steps: one per output or one for the layer.</summary>
    public float[] WeightSteps { get; }

    /// <summary>Gets the biases.</summary>
    public float[] Bias { get; }

    /// <summary>Gets the bits of the activation codes after this layer's ReLU, or 32 when the activation stays float (and for the output layer).</summary>
    public int ActivationBits { get; }

    /// <summary>Gets the step of the activation codes.</summary>
    public float ActivationStep { get; }

    /// <summary>Gets the largest activation code (the smallest is 0).</summary>
    public long ActivationMax { get; }

    /// <summary>Gets the unpacked weight codes, row-major, for scoring.</summary>
    internal int[] Codes { get; }

    /// <summary>The weights as float64 (codes, or float weights), for the vectorized float-input dot products; built once.</summary>
    internal double[] WeightsAsDouble => _weightsAsDouble ??= FloatWeights is { } w ? w.Select(v => (double)v).ToArray() : Codes.Select(c => (double)c).ToArray();

    private double[]? _weightsAsDouble;

    /// <summary>Whether an int32 dot product of this layer's codes with codes up to <paramref name="codeMax"/> cannot overflow.</summary>
    internal bool Int32DotFits(long codeMax) => codeMax > 0 && (long)Inputs * Math.Max(Math.Abs(CodeMin), (1L << Math.Max(0, WeightBits - 1))) * codeMax < int.MaxValue;

    /// <summary>Gets the bytes of this layer's parameters as stored: packed codes or float weights, steps, biases, activation step.</summary>
    public long ParameterBytes => (FloatWeights is null ? PackedWeights.Length : FloatWeights.Length * 4L) + WeightSteps.Length * 4L + Bias.Length * 4L + (ActivationBits == 32 ? 0 : 4);
}
