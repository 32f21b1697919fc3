using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace MlRounding.Benchmarks;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; MIT licence) from the Debian package <c>dataset-fashion-mnist</c>
/// (<c>apt-get install dataset-fashion-mnist</c>): 60,000 training and 10,000 test images of 28 × 28 bytes, 10 classes,
/// as idx files (gzip) under <see cref="Folder"/>. Never committed: benchmarks read the package's files, and
/// <c>-- fashion-mnist-csv DIR</c> writes the CSV files the command line takes (784 pixel columns p0..p783 with the raw
/// byte values, then Label).
/// </summary>
internal static class FashionMnist
{
    public const string Folder = "/usr/share/datasets/fashion-mnist";

    public static bool Installed => File.Exists(Path.Combine(Folder, "train-images-idx3-ubyte.gz"));

    /// <summary>The pixels (raw bytes 0..255 as floats, row-major, 784 per image) and labels of the training or test split.</summary>
    public static (float[] Pixels, float[] Labels) Load(bool train)
    {
        if (!Installed)
        {
            throw new FileNotFoundException($"Fashion-MNIST is not installed under {Folder}: apt-get install dataset-fashion-mnist");
        }

        string prefix = train ? "train" : "t10k";
        byte[] images = Read(Path.Combine(Folder, prefix + "-images-idx3-ubyte.gz"), 2051, 16);
        byte[] labels = Read(Path.Combine(Folder, prefix + "-labels-idx1-ubyte.gz"), 2049, 8);
        return (Array.ConvertAll(images, b => (float)b), Array.ConvertAll(labels, b => (float)b));
    }

    /// <summary>Writes fashion-mnist-train.csv and fashion-mnist-test.csv into <paramref name="folder"/>.</summary>
    public static void WriteCsv(string folder, TextWriter log)
    {
        Directory.CreateDirectory(folder);
        foreach (bool train in new[] { true, false })
        {
            var (pixels, labels) = Load(train);
            string path = Path.Combine(folder, train ? "fashion-mnist-train.csv" : "fashion-mnist-test.csv");
            string temporary = path + ".tmp"; // written whole, then moved into place
            using (Stream stream = File.Create(temporary))
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false));
                writer.WriteLine(string.Join(',', Enumerable.Range(0, 784).Select(i => "p" + i)) + ",Label");
                var line = new StringBuilder();
                for (int r = 0; r < labels.Length; r++)
                {
                    line.Clear();
                    for (int i = 0; i < 784; i++)
                    {
                        line.Append(((int)pixels[r * 784 + i]).ToString(CultureInfo.InvariantCulture)).Append(',');
                    }

                    writer.WriteLine(line.Append(((int)labels[r]).ToString(CultureInfo.InvariantCulture)));
                }
            }

            File.Move(temporary, path, overwrite: true);
            log.WriteLine($"{path}: {labels.Length} rows");
        }
    }

    private static byte[] Read(string path, int magic, int header)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        byte[] bytes = memory.ToArray();
        int found = (bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3];
        if (found != magic)
        {
            throw new InvalidDataException($"{path}: magic number {found}, expected {magic}.");
        }

        return bytes[header..];
    }
}
