using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// One weight matrix of a float network with what follows it, as learned rounding reconstructs it: a dense layer
/// (ReLU unless it is the output layer) or a convolution block ("same" padding, ReLU, max pooling). Rows go in and
/// come out flat (channel-planar for blocks), as the scorer passes them on.
/// </summary>
internal sealed class ReconstructionStage : IDisposable
{
    private ReconstructionStage(Tensor weight, Tensor bias, QuantizedConvolution? block, bool hidden, bool logits = false)
    {
        Weight = weight;
        Bias = bias;
        Block = block;
        Hidden = hidden;
        Logits = logits;
    }

    /// <summary>Gets the float weights flattened to (outputs, inputs): a block's filters in (channel, dy, dx) order.</summary>
    public Tensor Weight { get; }

    /// <summary>Gets the float biases.</summary>
    public Tensor Bias { get; }

    /// <summary>Gets the convolution block this stage is (its input shape, kernel and pooling), or null for a dense layer.</summary>
    public QuantizedConvolution? Block { get; }

    /// <summary>Gets a value indicating whether a ReLU (and an activation grid) follows: every stage but the output layer.</summary>
    public bool Hidden { get; }

    /// <summary>
    /// Gets a value indicating whether the stage gives a multiclass network's logits, which the model passes through
    /// softmax: its output error ignores each row's common shift (<see cref="Error"/>).
    /// </summary>
    public bool Logits { get; }

    /// <summary>Gets the number of output channels (rows of <see cref="Weight"/>).</summary>
    public int Outputs => (int)Weight.shape[0];

    /// <summary>The stages of a float network, input first: its convolution blocks, then its dense layers.</summary>
    public static ReconstructionStage[] Of(QuantizedMlp network)
    {
        var stages = new List<ReconstructionStage>();
        foreach (QuantizedConvolution block in network.Convolutions)
        {
            stages.Add(new ReconstructionStage(Matrix(block.Filters), tensor(block.Filters.Bias.ToArray()), block, hidden: true));
        }

        for (int i = 0; i < network.Layers.Count; i++)
        {
            QuantizedLayer layer = network.Layers[i];
            bool last = i + 1 == network.Layers.Count;
            stages.Add(new ReconstructionStage(Matrix(layer), tensor(layer.Bias.ToArray()), null, hidden: !last, logits: last && network.Task == QatTask.MulticlassClassification));
        }

        return stages.ToArray();
    }

    private static Tensor Matrix(QuantizedLayer layer) => tensor(layer.FloatWeights.ToArray()).reshape(layer.Outputs, layer.Inputs);

    /// <summary>
    /// What the stage gives for <paramref name="rows"/> (n, inputs) with the flattened weights <paramref name="weight"/>:
    /// x Wᵀ + b, then ReLU for a hidden layer; or the convolution, ReLU and pooling of a block, flattened.
    /// </summary>
    public Tensor Forward(Tensor rows, Tensor weight)
    {
        Tensor y = Linear(rows, weight);
        if (Block is not { } block)
        {
            return Hidden ? nn.functional.relu(y) : y;
        }

        Tensor h = nn.functional.relu(y);
        if (block.PoolSize > 1)
        {
            h = nn.functional.max_pool2d(h, new long[] { block.PoolSize, block.PoolSize });
        }

        return h.flatten(1);
    }

    /// <summary>The stage's affine part alone: x Wᵀ + b (n, outputs), or the convolution's output (n, outputs, height, width).</summary>
    private Tensor Linear(Tensor rows, Tensor weight)
    {
        if (Block is not { } block)
        {
            return nn.functional.linear(rows, weight, Bias);
        }

        ImageShape shape = block.Input;
        int k = block.KernelSize;
        Tensor image = rows.reshape(rows.shape[0], shape.Channels, shape.Height, shape.Width);
        return nn.functional.conv2d(image, weight.reshape(Outputs, shape.Channels, k, k), Bias, padding: new long[] { k / 2, k / 2 });
    }

    /// <summary>
    /// The output error of <paramref name="output"/> against <paramref name="target"/> (rows of this stage's flattened
    /// output): the squared distance per row, averaged over the rows and, for a block, over its positions. What learned
    /// rounding lowers and reports. For <see cref="Logits"/> the distance is taken after subtracting each row's mean
    /// difference over the classes: softmax(z + c) = softmax(z), so a shift common to a row's logits changes neither the
    /// probabilities nor the class, and an error that counted it spent the rounding on it (Fashion-MNIST W1A8, seeds 1-5:
    /// 82.3 % with the plain distance, 86.5 % without the shift).
    /// </summary>
    public Tensor Error(Tensor output, Tensor target)
    {
        Tensor difference = output - target;
        if (Logits)
        {
            difference = difference - difference.mean(new long[] { 1 }, keepdim: true);
        }

        return difference.Squared().sum(1).mean().Over((double)target.shape[1] / Outputs);
    }

    /// <summary>
    /// The second moments of what each weight row multiplies, E[a aᵀ] over <paramref name="rows"/>: the rows themselves for a
    /// dense layer, every image patch for a block. The output error of weights W + D is then Σ_j d_j E[a aᵀ] d_jᵀ.
    /// </summary>
    public Tensor InputMoments(Tensor rows)
    {
        using var scope = NewDisposeScope();
        int inputs = (int)Weight.shape[1];
        Tensor sum = zeros(inputs, inputs, dtype: ScalarType.Float64);
        long count = 0;
        const int Chunk = 128;
        for (long first = 0; first < rows.shape[0]; first += Chunk)
        {
            using var step = NewDisposeScope();
            Tensor part = rows.narrow(0, first, Math.Min(Chunk, rows.shape[0] - first));
            Tensor a = Patches(part).to_type(ScalarType.Float64);
            sum.add_(a.t().matmul(a), ScalarArithmetic.One);
            count += a.shape[0];
        }

        return sum.Over(Math.Max(1, count)).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The vectors the weight rows multiply: (n, inputs) rows for a dense layer, (n · positions, C·k²) patches for a block.</summary>
    private Tensor Patches(Tensor rows)
    {
        if (Block is not { } block)
        {
            return rows;
        }

        ImageShape shape = block.Input;
        int k = block.KernelSize;
        Tensor image = rows.reshape(rows.shape[0], shape.Channels, shape.Height, shape.Width);
        return nn.functional.unfold(image, k, padding: k / 2).transpose(1, 2).reshape(-1, shape.Channels * k * k);
    }

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
    }
}
