namespace MlRounding;

/// <summary>
/// The shape of an image-shaped feature vector: channels, height and width, its values channel-planar and row-major
/// (value (c, y, x) at index c · H · W + y · W + x), the order ML.NET's <c>ExtractPixels</c> produces by default
/// (<c>interleavePixelColors: false</c>) and PyTorch's NCHW tensors use.
/// </summary>
public sealed class ImageShape : IEquatable<ImageShape>
{
    /// <summary>The largest height or width (and channel count).</summary>
    internal const int MaxSide = 4096;

    /// <summary>Creates a shape.</summary>
    /// <param name="channels">Channels, 1 to 4096.</param>
    /// <param name="height">Rows, 1 to 4096.</param>
    /// <param name="width">Columns, 1 to 4096 (channels · height · width at most 2^24).</param>
    /// <exception cref="ArgumentOutOfRangeException">A side is out of its range, or the image has more than 2^24 values.</exception>
    public ImageShape(int channels, int height, int width)
    {
        Check.InRange(channels, 1, MaxSide, nameof(channels));
        Check.InRange(height, 1, MaxSide, nameof(height));
        Check.InRange(width, 1, MaxSide, nameof(width));
        if ((long)channels * height * width > 1 << 24)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, $"An image has at most 2^24 values; {channels}x{height}x{width} has {(long)channels * height * width}.");
        }

        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>Gets the number of channels.</summary>
    public int Channels { get; }

    /// <summary>Gets the number of rows.</summary>
    public int Height { get; }

    /// <summary>Gets the number of columns.</summary>
    public int Width { get; }

    /// <summary>Gets the number of values: channels · height · width.</summary>
    public int Size => Channels * Height * Width;

    /// <summary>Gets the values of one channel: height · width.</summary>
    internal int Plane => Height * Width;

    /// <summary>Whether <paramref name="other"/> has the same channels, height and width.</summary>
    /// <param name="other">The other shape.</param>
    /// <returns>True when all three agree.</returns>
    public bool Equals(ImageShape? other) => other is not null && other.Channels == Channels && other.Height == Height && other.Width == Width;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ImageShape);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Channels, Height, Width);

    /// <summary>The shape as "channels x height x width", e.g. "1x28x28".</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}
