using System.CommandLine;
using System.Globalization;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>
/// <c>--image</c> and <c>--conv</c> of <c>train</c> and <c>compare</c>: the feature columns are an image's values
/// (row-major, channels planar) and the network starts with convolution blocks. Bad values fail naming the flag (exit 2).
/// </summary>
internal sealed class ImageFlags
{
    public readonly Option<string?> Image = new("--image") { Description = "The feature columns are an image, row-major: HxW for one channel, HxWxC for C planar channels (e.g. 28x28); trains a convolutional network" };
    public readonly Option<string?> Conv = new("--conv") { Description = "With --image: the convolution blocks' channels, e.g. 16,32 (3x3 convolution, ReLU, 2x2 max pooling each; default: the trainer's)" };

    /// <summary>The flags, to add to a command.</summary>
    public IEnumerable<Option> All => new Option[] { Image, Conv };

    /// <summary>Sets <see cref="QatOptions.ImageShape"/> and <see cref="QatOptions.ConvolutionChannels"/> from the flags; null without --image.</summary>
    public ImageShape? Apply(ParseResult result, QatOptions options)
    {
        string? conv = result.GetValue(Conv);
        if (result.GetValue(Image) is not { } text)
        {
            return conv is null ? null : throw new ArgumentOutOfRangeException("conv", "--conv needs --image (the image's shape).");
        }

        options.ImageShape = Parse(text);
        if (conv is not null)
        {
            options.ConvolutionChannels = conv.Split(',').Select(p => int.TryParse(p.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int c) && c > 0 ? c
                : throw new ArgumentOutOfRangeException("conv", $"--conv: '{p}' is not a positive channel count.")).ToArray();
        }

        return options.ImageShape;
    }

    /// <summary>"HxW" or "HxWxC" as a shape; anything else fails naming --image.</summary>
    public static ImageShape Parse(string text)
    {
        string[] parts = text.Split('x', 'X');
        int[] sides = parts.Select(p => int.TryParse(p.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v is >= 1 and <= 4096 ? v : 0).ToArray();
        if (sides.Length is not (2 or 3) || sides.Contains(0) || (long)sides.Aggregate(1L, (a, b) => a * b) > 1 << 24)
        {
            throw new ArgumentOutOfRangeException("image", $"--image: '{text}' is not HxW or HxWxC (sides 1 to 4096, e.g. 28x28 or 32x32x3).");
        }

        return new ImageShape(sides.Length == 3 ? sides[2] : 1, sides[0], sides[1]);
    }

    /// <summary>With --image, checks the table against the shape (see <see cref="Check(ImageShape, TableSchema, string)"/>).</summary>
    public void Check(ParseResult result, QatOptions options, TableSchema schema)
    {
        if (options.ImageShape is { } shape)
        {
            Check(shape, schema, result.GetValue(Image)!);
        }
    }

    /// <summary>
    /// Checks that the table's features are the image's values: every used column numeric, as many as the shape has
    /// values. The message names both numbers.
    /// </summary>
    public static void Check(ImageShape image, TableSchema schema, string flagText)
    {
        if (schema.Columns.FirstOrDefault(c => c.Role is not (ColumnRole.Numeric or ColumnRole.Ignored)) is { } other)
        {
            throw new ArgumentOutOfRangeException("image", $"--image {flagText}: column '{other.Name}' is {other.Role.ToString().ToLowerInvariant()}, not pixel values (numbers); --ignore it or drop --image.");
        }

        int columns = schema.NumericFeatures.Length;
        if (columns != image.Size)
        {
            throw new ArgumentOutOfRangeException("image", $"--image {flagText} needs {image.Size} feature columns ({image.Channels} x {image.Height} x {image.Width} values, row-major), but the table has {columns}.");
        }
    }
}
