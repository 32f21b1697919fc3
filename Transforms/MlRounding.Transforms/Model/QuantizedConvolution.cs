namespace MlRounding;

/// <summary>
/// One convolution block of a trained model, immutable: a 2-D convolution (square kernel, stride 1, "same" zero padding),
/// then its ReLU and, for a quantized activation, the activation codes, then max pooling.
/// </summary>
/// <remarks>
/// The filters are a <see cref="QuantizedLayer"/> whose inputs are the values of one patch: output channel j at (y, x)
/// is Σ_{c, dy, dx} in[c, y + dy - k/2, x + dx - k/2] · w[j, c · k² + dy · k + dx] (values outside the image are 0),
/// scaled and offset by the bias as a dense layer's output is; PyTorch's <c>Conv2d</c> weight (out, in, k, k) flattened
/// row-major is that layout. Then ReLU, the activation codes clamp(round(y / step), 0, 2^bits - 1) (as a hidden dense
/// layer's), and the maximum over each <see cref="PoolSize"/> × <see cref="PoolSize"/> window (rows and columns past the
/// last whole window are dropped, as PyTorch's <c>MaxPool2d</c> does). Rounding and ReLU do not decrease, so pooling
/// before or after them gives the same codes. The block's output is channel-planar like its input.
/// </remarks>
public sealed class QuantizedConvolution
{
    /// <summary>The largest kernel side.</summary>
    internal const int MaxKernel = 15;

    /// <summary>The most values a block computes before pooling (positions · channels): bounds the scorer's buffers.</summary>
    internal const long MaxOutputs = 1L << 26;

    /// <summary>Creates a block; every argument is checked.</summary>
    /// <param name="input">The shape of the block's input.</param>
    /// <param name="kernelSize">The kernel's side: odd, 1 to 15 ("same" padding needs an odd side).</param>
    /// <param name="filters">The filters: inputs = input channels · kernelSize², one output per output channel; its
    /// activation bits and step are the block's (32 for a float activation).</param>
    /// <param name="poolSize">The max-pooling window's side: 2 (the default), or 1 for no pooling.</param>
    /// <exception cref="ArgumentOutOfRangeException">The kernel or pool size is out of its range, or pooling leaves no pixel.</exception>
    /// <exception cref="ArgumentException">The filters do not take input channels · kernelSize² inputs.</exception>
    public QuantizedConvolution(ImageShape input, int kernelSize, QuantizedLayer filters, int poolSize = 2)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(filters);
        if (kernelSize < 1 || kernelSize > MaxKernel || kernelSize % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, $"kernelSize must be odd, 1 to {MaxKernel} (\"same\" padding).");
        }

        if (poolSize is not (1 or 2) || input.Height < poolSize || input.Width < poolSize)
        {
            throw new ArgumentOutOfRangeException(nameof(poolSize), poolSize, $"poolSize must be 1 or 2, and at most the image's sides ({input}).");
        }

        long patch = (long)input.Channels * kernelSize * kernelSize;
        if (filters.Inputs != patch)
        {
            throw new ArgumentException($"The filters take {filters.Inputs} inputs; a {kernelSize}x{kernelSize} kernel over {input.Channels} channels has {patch}.", nameof(filters));
        }

        if ((long)input.Plane * filters.Outputs > MaxOutputs)
        {
            throw new ArgumentOutOfRangeException(nameof(filters), filters.Outputs, $"A block computes at most 2^26 values before pooling; {input.Plane} positions · {filters.Outputs} channels is {(long)input.Plane * filters.Outputs}.");
        }

        Input = input;
        KernelSize = kernelSize;
        Filters = filters;
        PoolSize = poolSize;
        Output = new ImageShape(filters.Outputs, input.Height / poolSize, input.Width / poolSize);
    }

    /// <summary>Gets the shape of the block's input.</summary>
    public ImageShape Input { get; }

    /// <summary>Gets the shape of the block's output: one channel per filter, the sides divided by the pool size.</summary>
    public ImageShape Output { get; }

    /// <summary>Gets the kernel's side.</summary>
    public int KernelSize { get; }

    /// <summary>Gets the max-pooling window's side (1: no pooling).</summary>
    public int PoolSize { get; }

    /// <summary>Gets the filters: one output per channel, inputs = input channels · kernel side² (see the remarks for the layout).</summary>
    public QuantizedLayer Filters { get; }

    /// <summary>Gets the bytes of this block's parameters as stored.</summary>
    public long ParameterBytes => Filters.ParameterBytes;
}
